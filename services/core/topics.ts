// Default topic names. The stack config can rename them; services take the names from env.
export const defaultTopics = {
  raw: 'ecommerce_topic',
  processed: 'processed_ecommerce_topic',
  deadLetter: 'ecommerce_dead_letter',
  late: 'ecommerce_late_events',
  repartition: 'ecommerce_consumer_repartition',
  changelog: 'ecommerce_consumer_changelog',
  sourceOffsets: 'ecommerce_producer_offsets',
} as const;

export type TopicRole = keyof typeof defaultTopics;

/** The topics the consumer uses: all but the producer's own position topic, which it may not even describe. */
export type ConsumerTopicRole = Exclude<TopicRole, 'sourceOffsets'>;
export const consumerTopicRoles = (Object.keys(defaultTopics) as TopicRole[]).filter((r): r is ConsumerTopicRole => r !== 'sourceOffsets');

/** Environment variable that carries each topic's name into the services. */
export const topicEnvVars: Record<TopicRole, string> = {
  raw: 'TOPIC_RAW',
  processed: 'TOPIC_PROCESSED',
  deadLetter: 'TOPIC_DEAD_LETTER',
  late: 'TOPIC_LATE',
  repartition: 'TOPIC_REPARTITION',
  changelog: 'TOPIC_CHANGELOG',
  sourceOffsets: 'TOPIC_SOURCE_OFFSETS',
};
