// Golden outputs from Apache Kafka's own Connect classes, for the byte-for-byte tests in
// tests/connectors. Regenerate with ./regenerate.sh (needs Java 17+ and the jars that
// tests/peers/kafka-jvm/fetch.sh resolves, which include connect-api, connect-json and
// connect-runtime).
//
//   json_converter_cases.json   -> json_converter_golden.json   (JsonConverter round trips)
//   header_cases.json           -> header_golden.json           (SimpleHeaderConverter)
//   (no input)                  -> connector_configs_golden.json (ConnectorConfig definitions)
//   (no input)                  -> validate_golden.json          (the /config/validate answer)

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

public class KafkaGolden {
    static final ObjectMapper M = new ObjectMapper();

    public static void main(String[] args) throws Exception {
        File dir = new File(args[0]);
        jsonConverter(dir);
        headers(dir);
        connectorConfigs(dir);
        validate(dir);
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
