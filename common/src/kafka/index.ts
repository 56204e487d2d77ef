// Kafka messaging: the client, command server, reply client and event consumer.
export * from './kafka.ts';
export * from './rpc.client.ts';
export * from './command.server.ts';
export * from './dead-letter.ts';
export * from './offset.committer.ts';
export * from './event.consumer.ts';
