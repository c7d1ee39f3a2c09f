// Produces the golden records (records.json) with the Java client, all in one batch.
//
// Run as a single-file program against a broker (see generate.py):
//   java -cp '<kafka jars>/*' GoldenProducer.java <bootstrap> <topic> <compression> <records.json>
//
// Producer settings are the client's defaults (idempotence on, acks=all) except
// a long linger and a large batch.size so that all records share one batch.

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.File;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.Future;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.apache.kafka.common.serialization.ByteArraySerializer;

public class GoldenProducer {
    private static byte[] hex(JsonNode node) {
        return node == null || node.isNull() ? null : HexFormat.of().parseHex(node.asText());
    }

    public static void main(String[] args) throws Exception {
        String bootstrap = args[0], topic = args[1], compression = args[2];
        JsonNode records = new ObjectMapper().readTree(new File(args[3])).get("records");

        Properties props = new Properties();
        props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        props.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, compression);
        props.put(ProducerConfig.LINGER_MS_CONFIG, "1000");
        props.put(ProducerConfig.BATCH_SIZE_CONFIG, Integer.toString(1 << 20));
        props.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        props.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());

        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(props)) {
            producer.partitionsFor(topic); // metadata first, so no record waits alone
            List<Future<RecordMetadata>> sent = new ArrayList<>();
            for (JsonNode r : records) {
                List<Header> headers = new ArrayList<>();
                for (JsonNode h : r.get("headers")) {
                    headers.add(new RecordHeader(h.get(0).asText(), hex(h.get(1))));
                }
                sent.add(producer.send(new ProducerRecord<>(
                        topic, 0, r.get("timestamp").asLong(), hex(r.get("key")),
                        hex(r.get("value")), headers)));
            }
            producer.flush();
            for (Future<RecordMetadata> f : sent) {
                f.get();
            }
        }
    }
}
