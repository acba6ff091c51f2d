// The kafkajs producer the service sends with: idempotent (so retries never duplicate or reorder a
// partition's records), acks=all on every request (BatchSender), no topic auto-creation.
import { Partitioners, type ICustomPartitioner, type Kafka, type Producer } from 'kafkajs';

/**
 * kafkajs's DefaultPartitioner (murmur2 of the key, as the Java client computes it: a key lands where
 * any Kafka client puts it), returning a partition already chosen at once: VerifiedSender chooses
 * every message's partition, and the default one filters the partition list for each message first.
 */
const chosenFirst: ICustomPartitioner = () => {
  const partitioner = Partitioners.DefaultPartitioner();
  return (args) => args.message.partition ?? partitioner(args);
};

export function createEventProducer(kafka: Kafka): Producer {
  return kafka.producer({
    idempotent: true,
    allowAutoTopicCreation: false,
    createPartitioner: chosenFirst,
    // Bounded (about a minute of backoff in all), so a broker gone for good ends the run with exit
    // code 4 and an exact account instead of retrying forever; kafkajs warns that bounded retries
    // weaken idempotence, which holds only if the run went on after a failure, and it stops.
    retry: { retries: 8, initialRetryTime: 300, maxRetryTime: 30_000 },
  });
}

/**
 * The service's producer: transactional, so each batch and the file position it reaches commit
 * together (batch-delivery.ts). One transactional.id per stack: a restarted or replaced producer
 * fences the one before it.
 */
export function createTransactionalProducer(kafka: Kafka, transactionalId: string): Producer {
  return kafka.producer({
    transactionalId,
    idempotent: true,
    maxInFlightRequests: 1,
    allowAutoTopicCreation: false,
    createPartitioner: chosenFirst,
    retry: { retries: 8, initialRetryTime: 300, maxRetryTime: 30_000 },
  });
}
