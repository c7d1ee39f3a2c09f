// Golden outputs from Apache Kafka's own Connect classes, for the byte-for-byte tests in
// tests/connectors. Regenerate with ./regenerate.sh (needs Java 17+ and the jars that
// tests/peers/kafka-jvm/fetch.sh resolves, which include connect-api, connect-json and
// connect-runtime).
//
//   json_converter_cases.json   -> json_converter_golden.json   (JsonConverter round trips)
//   header_cases.json           -> header_golden.json           (SimpleHeaderConverter)
//   (no input)                  -> connector_configs_golden.json (ConnectorConfig definitions)
//   validate_cases.json         -> validate_golden.json          (the /config/validate answer)
//   transform_cases.json        -> transform_golden.json         (SMTs and predicates on records)
//   enrich_cases.json           -> enrich_golden.json            (sink configs with transforms)
//   (no input)                  -> number_golden.json            (the numeric and boolean converters)

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.File;
import java.nio.charset.StandardCharsets;
import java.util.*;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigValue;
import org.apache.kafka.connect.data.SchemaAndValue;
import org.apache.kafka.connect.json.JsonConverter;
import org.apache.kafka.connect.runtime.AbstractHerder;
import org.apache.kafka.connect.runtime.SinkConnectorConfig;
import org.apache.kafka.connect.runtime.SourceConnectorConfig;
import org.apache.kafka.connect.storage.SimpleHeaderConverter;
import org.apache.kafka.common.record.TimestampType;
import org.apache.kafka.connect.sink.SinkRecord;
import org.apache.kafka.connect.transforms.Transformation;
import org.apache.kafka.connect.transforms.predicates.Predicate;

public class KafkaGolden {
    static final ObjectMapper M = new ObjectMapper();

    public static void main(String[] args) throws Exception {
        File dir = new File(args[0]);
        jsonConverter(dir);
        headers(dir);
        connectorConfigs(dir);
        validate(dir);
        transforms(dir);
        enrich(dir);
        numbers(dir);
    }

    // Each numeric converter on a few values: the bytes it writes (hex), what it reads back,
    // and what it does with bytes of the wrong size.
    static void numbers(File dir) throws Exception {
        Object[][] cases = {
            {"ShortConverter", new Object[]{(short) 0, (short) -2, Short.MAX_VALUE}},
            {"IntegerConverter", new Object[]{0, -2, Integer.MIN_VALUE, 123456789}},
            {"LongConverter", new Object[]{0L, -2L, Long.MAX_VALUE, 1704164645678L}},
            {"FloatConverter", new Object[]{0.0f, -2.5f, 3.4028235e38f, 0.1f}},
            {"DoubleConverter", new Object[]{0.0, -2.5, 0.1, 1e300}},
            {"BooleanConverter", new Object[]{true, false}},
        };
        ObjectNode out = M.createObjectNode();
        for (Object[] c : cases) {
            org.apache.kafka.connect.storage.Converter converter = (org.apache.kafka.connect.storage.Converter)
                Class.forName("org.apache.kafka.connect.converters." + c[0]).getDeclaredConstructor().newInstance();
            converter.configure(new HashMap<>(), false);
            ObjectNode entry = out.putObject((String) c[0]);
            ArrayNode values = entry.putArray("values");
            for (Object v : (Object[]) c[1]) {
                byte[] bytes = converter.fromConnectData("t", null, v);
                StringBuilder hex = new StringBuilder();
                for (byte b : bytes) hex.append(String.format("%02x", b));
                SchemaAndValue back = converter.toConnectData("t", bytes);
                values.addObject().put("value", String.valueOf(v)).put("hex", hex.toString())
                    .put("schema", back.schema().type().getName() + (back.schema().isOptional() ? "?" : ""))
                    .put("back", String.valueOf(back.value()));
            }
            try {
                converter.toConnectData("t", new byte[]{1, 2, 3});
                entry.put("wrong_size", "accepted");
            } catch (Exception e) {
                entry.put("wrong_size", e.getClass().getSimpleName());
            }
            try {
                converter.fromConnectData("t", null, "text");
                entry.put("wrong_type", "accepted");
            } catch (Exception e) {
                entry.put("wrong_type", e.getClass().getSimpleName());
            }
            entry.put("null", String.valueOf(converter.fromConnectData("t", null, null)));
        }
        M.writerWithDefaultPrettyPrinter().writeValue(new File(dir, "number_golden.json"), out);
    }

    // A sink connector config validated with its transform and predicate aliases enriched,
    // as the herder does before asking the connector itself.
    static void enrich(File dir) throws Exception {
        org.apache.kafka.connect.runtime.isolation.Plugins plugins =
            new org.apache.kafka.connect.runtime.isolation.Plugins(new HashMap<>());
        ArrayNode answers = M.createArrayNode();
        for (JsonNode c : M.readTree(new File(dir, "enrich_cases.json"))) {
            Map<String, String> props = strings(c);
            ConfigDef enriched = org.apache.kafka.connect.runtime.ConnectorConfig.enrich(
                plugins, SinkConnectorConfig.configDef(), props, false);
            List<ConfigValue> values = enriched.validate(props);
            answers.add(M.valueToTree(AbstractHerder.generateResult(
                "Example", enriched.configKeys(), values, new ArrayList<>(enriched.groups()))));
        }
        M.writerWithDefaultPrettyPrinter().writeValue(new File(dir, "enrich_golden.json"), answers);
    }

    static Map<String, String> strings(JsonNode node) {
        Map<String, String> out = new LinkedHashMap<>();
        node.fields().forEachRemaining(e -> out.put(e.getKey(), e.getValue().asText()));
        return out;
    }

    static JsonConverter json(boolean schemas, boolean isKey) {
        JsonConverter converter = new JsonConverter();
        converter.configure(Map.of("schemas.enable", String.valueOf(schemas)), isKey);
        return converter;
    }

    static SchemaAndValue read(JsonConverter converter, JsonNode node) {
        if (node == null || node.isNull()) return SchemaAndValue.NULL;
        return converter.toConnectData("topic", node.asText().getBytes(StandardCharsets.UTF_8));
    }

    static String write(JsonConverter converter, org.apache.kafka.connect.data.Schema schema, Object value) {
        byte[] bytes = converter.fromConnectData("topic", schema, value);
        return bytes == null ? null : new String(bytes, StandardCharsets.UTF_8);
    }

    // Each case: a record (key and value as JsonConverter text), a transform or predicate
    // class with its config; the answer: the resulting record, or that it was dropped, or
    // the predicate's verdict, or the exception's class.
    @SuppressWarnings({"unchecked", "rawtypes"})
    static void transforms(File dir) throws Exception {
        ObjectNode out = M.createObjectNode();
        for (JsonNode c : M.readTree(new File(dir, "transform_cases.json"))) {
            boolean schemas = c.get("schemas").asBoolean();
            JsonConverter keys = json(schemas, true), values = json(schemas, false);
            ObjectNode result = out.putObject(c.get("name").asText());
            try {
                SchemaAndValue key = read(keys, c.get("key"));
                SchemaAndValue value = read(values, c.get("value"));
                Long timestamp = c.hasNonNull("timestamp") ? c.get("timestamp").asLong() : null;
                SinkRecord record = new SinkRecord(c.get("topic").asText(), c.get("partition").asInt(),
                    key.schema(), key.value(), value.schema(), value.value(), c.get("offset").asLong(),
                    timestamp, timestamp == null ? TimestampType.NO_TIMESTAMP_TYPE : TimestampType.CREATE_TIME);
                if (c.has("headers")) {
                    c.get("headers").fields().forEachRemaining(e -> record.headers().addString(e.getKey(), e.getValue().asText()));
                }
                Object plugin = Class.forName(c.get("class").asText()).getDeclaredConstructor().newInstance();
                ((org.apache.kafka.common.Configurable) plugin).configure(strings(c.get("config")));
                if (plugin instanceof Predicate) {
                    result.put("test", ((Predicate) plugin).test(record));
                    continue;
                }
                SinkRecord transformed = (SinkRecord) ((Transformation) plugin).apply(record);
                if (transformed == null) {
                    result.put("dropped", true);
                    continue;
                }
                result.put("topic", transformed.topic());
                result.put("partition", transformed.kafkaPartition());
                result.put("key", write(keys, transformed.keySchema(), transformed.key()));
                result.put("value", write(values, transformed.valueSchema(), transformed.value()));
                ArrayNode headers = result.putArray("headers");
                JsonConverter headerJson = json(true, false);
                for (org.apache.kafka.connect.header.Header h : transformed.headers()) {
                    headers.addObject().put("key", h.key()).put("value", write(headerJson, h.schema(), h.value()));
                }
            } catch (Exception e) {
                result.put("error", e.getClass().getSimpleName());
            }
        }
        M.writerWithDefaultPrettyPrinter().writeValue(new File(dir, "transform_golden.json"), out);
    }

    static void jsonConverter(File dir) throws Exception {
        ObjectNode out = M.createObjectNode();
        for (JsonNode c : M.readTree(new File(dir, "json_converter_cases.json"))) {
            Map<String, String> conf = new HashMap<>();
            c.get("config").fields().forEachRemaining(e -> conf.put(e.getKey(), e.getValue().asText()));
            JsonConverter converter = new JsonConverter();
            converter.configure(conf, false);
            ObjectNode result = out.putObject(c.get("name").asText());
            try {
                byte[] input = c.get("input").isNull() ? null : c.get("input").asText().getBytes(StandardCharsets.UTF_8);
                SchemaAndValue sv = converter.toConnectData("topic", input);
                byte[] bytes = converter.fromConnectData("topic", sv.schema(), sv.value());
                result.put("output", bytes == null ? null : new String(bytes, StandardCharsets.UTF_8));
            } catch (Exception e) {
                result.put("error", e.getClass().getSimpleName());
            }
        }
        M.writerWithDefaultPrettyPrinter().writeValue(new File(dir, "json_converter_golden.json"), out);
    }

    static void headers(File dir) throws Exception {
        ObjectNode out = M.createObjectNode();
        SimpleHeaderConverter converter = new SimpleHeaderConverter();
        converter.configure(new HashMap<>());
        for (JsonNode c : M.readTree(new File(dir, "header_cases.json"))) {
            String text = c.asText();
            SchemaAndValue sv = converter.toConnectHeader("topic", "h", text.getBytes(StandardCharsets.UTF_8));
            ObjectNode result = out.putObject(text);
            result.put("type", sv.schema() == null ? null : sv.schema().type().getName());
            result.put("name", sv.schema() == null ? null : sv.schema().name());
            byte[] back = converter.fromConnectHeader("topic", "h", sv.schema(), sv.value());
            result.put("back", back == null ? null : new String(back, StandardCharsets.UTF_8));
        }
        M.writerWithDefaultPrettyPrinter().writeValue(new File(dir, "header_golden.json"), out);
    }

    static void connectorConfigs(File dir) throws Exception {
        ObjectNode out = M.createObjectNode();
        out.set("sink", keys(SinkConnectorConfig.configDef()));
        out.set("source", keys(SourceConnectorConfig.configDef()));
        M.writerWithDefaultPrettyPrinter().writeValue(new File(dir, "connector_configs_golden.json"), out);
    }

    static ArrayNode keys(ConfigDef def) {
        ArrayNode list = M.createArrayNode();
        for (ConfigDef.ConfigKey key : def.configKeys().values()) {
            list.add(M.valueToTree(AbstractHerder.convertConfigKey(key)));
        }
        return list;
    }

    // The same definitions as _VALIDATE_DEF in tests/connectors/config/test_kafka_golden.py.
    static void validate(File dir) throws Exception {
        ConfigDef def = new ConfigDef()
            .define("file", ConfigDef.Type.STRING, ConfigDef.NO_DEFAULT_VALUE, ConfigDef.Importance.HIGH,
                    "The file.", "Main", 1, ConfigDef.Width.LONG, "File")
            .define("batch.size", ConfigDef.Type.INT, 2000, ConfigDef.Range.atLeast(1), ConfigDef.Importance.LOW,
                    "Records per poll.", "Main", 2, ConfigDef.Width.SHORT, "Batch size")
            .define("ratio", ConfigDef.Type.DOUBLE, 0.5, ConfigDef.Importance.LOW, "A ratio.")
            .define("enabled", ConfigDef.Type.BOOLEAN, true, ConfigDef.Importance.LOW, "On or off.")
            .define("mode", ConfigDef.Type.STRING, "bulk", ConfigDef.ValidString.in("bulk", "incrementing"),
                    ConfigDef.Importance.MEDIUM, "The mode.", "Mode", 1, ConfigDef.Width.MEDIUM, "Mode")
            .define("secret", ConfigDef.Type.PASSWORD, null, ConfigDef.Importance.LOW, "A secret.")
            .define("topics", ConfigDef.Type.LIST, "a,b", ConfigDef.Importance.HIGH, "Topics.")
            .define("retries", ConfigDef.Type.LONG, 10L, ConfigDef.Importance.LOW, "Retries.");
        ArrayNode answers = M.createArrayNode();
        for (JsonNode c : M.readTree(new File(dir, "validate_cases.json"))) {
            Map<String, String> props = new LinkedHashMap<>();
            c.fields().forEachRemaining(e -> props.put(e.getKey(), e.getValue().asText()));
            List<ConfigValue> values = def.validate(props);
            answers.add(M.valueToTree(AbstractHerder.generateResult("Example", def.configKeys(), values, def.groups())));
        }
        M.writerWithDefaultPrettyPrinter().writeValue(new File(dir, "validate_golden.json"), answers);
    }
}
