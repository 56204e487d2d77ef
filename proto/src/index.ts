// The one place that names Mart's Kafka topics and binds each command and event to its
// protobuf types, so a wrong topic or payload is a compile error in every service.
import './int64.ts';
import { mart } from '../gen/mart.js';

export { mart };

/** A generated protobuf message class, seen through the two calls the messaging layer needs. */
export interface MessageCodec<In, Out> {
  encode(message: In): { finish(): Uint8Array };
  decode(bytes: Uint8Array): Out;
}

export const topics = {
  systemCommands: 'mart.system.commands',
  brandCommands: 'mart.brand.commands',
  categoryCommands: 'mart.category.commands',
  productCommands: 'mart.product.commands',
  userCommands: 'mart.user.commands',
  customerCommands: 'mart.customer.commands',
  authCommands: 'mart.auth.commands',
  inventoryCommands: 'mart.inventory.commands',
  orderCommands: 'mart.order.commands',
  paymentCommands: 'mart.payment.commands',
  notificationCommands: 'mart.notification.commands',

  brandEvents: 'mart.brand.events',
  categoryEvents: 'mart.category.events',
  productEvents: 'mart.product.events',
  customerEvents: 'mart.customer.events',
  inventoryEvents: 'mart.inventory.events',
  orderEvents: 'mart.order.events',
  paymentEvents: 'mart.payment.events',
  notificationEvents: 'mart.notification.events',

  deadLetter: 'mart.dead-letter',
} as const;

export type TopicName = (typeof topics)[keyof typeof topics];

const replyTopicPrefix = 'mart.replies.';

/** Each calling service has one reply topic; every instance reads it in a group of its own. */
export function replyTopic(service: string): string {
  return `${replyTopicPrefix}${service}`;
}

export function isReplyTopic(topic: string): boolean {
  return topic.startsWith(replyTopicPrefix);
}

export const partitions = {
  // Commands are keyed by aggregate id: partitions let db-service work on several at once and
  // instances share the work. Every fetch names every partition it reads, in the request and
  // in the answer, so each one costs db-service and the broker on every poll: 3 per domain keep
  // a two-core db-service busy (33 lanes) without paying for 66.
  commands: 3,
  events: 3,
  // Replies carry no key and every instance of a service reads all of its replies: one is enough.
  replies: 1,
  deadLetter: 1,
} as const;

/** The domains that own a command topic, `mart.<domain>.commands`. */
type CommandDomain = { [K in keyof typeof topics]: K extends `${infer D}Commands` ? D : never }[keyof typeof topics];

export interface CommandDefinition<ReqIn, ReqOut, ResIn, ResOut> {
  topic: TopicName;
  request: MessageCodec<ReqIn, ReqOut>;
  reply: MessageCodec<ResIn, ResOut>;
  /** Mutations are applied once per command id and may emit events; queries are not recorded. */
  mutation: boolean;
  /** The aggregate the command touches: commands with one key stay ordered on one partition. */
  key(request: ReqIn): string | undefined;
}

type Spec<ReqIn, ReqOut, ResIn, ResOut> = Omit<CommandDefinition<ReqIn, ReqOut, ResIn, ResOut>, 'topic'>;

function spec<ReqIn, ReqOut, ResIn, ResOut>(
  mutation: boolean,
  request: MessageCodec<ReqIn, ReqOut>,
  reply: MessageCodec<ResIn, ResOut>,
  key: (request: NoInfer<ReqIn>) => string | null | undefined,
): Spec<ReqIn, ReqOut, ResIn, ResOut> {
  return { request, reply, mutation, key: (request) => key(request) ?? undefined };
}

/** A command applied once per command id, which may emit events. */
const mutation = <ReqIn, ReqOut, ResIn, ResOut>(
  request: MessageCodec<ReqIn, ReqOut>,
  reply: MessageCodec<ResIn, ResOut>,
  key: (request: NoInfer<ReqIn>) => string | null | undefined,
) => spec(true, request, reply, key);

/** A read: not recorded, and never changes anything. */
const query = <ReqIn, ReqOut, ResIn, ResOut>(
  request: MessageCodec<ReqIn, ReqOut>,
  reply: MessageCodec<ResIn, ResOut>,
  key: (request: NoInfer<ReqIn>) => string | null | undefined,
) => spec(false, request, reply, key);

/** Each of `specs` named `<domain>.<name>`, with what the domain gives all of them (its topic). */
function inDomain<D extends string, S extends Record<string, object>, Given extends object>(
  name: D,
  specs: S,
  given: Given,
): { [K in keyof S & string as `${D}.${K}`]: S[K] & Given } {
  // Object.fromEntries forgets the keys; the signature above says what it builds.
  return Object.fromEntries(Object.entries(specs).map(([key, spec]) => [`${name}.${key}`, { ...spec, ...given }])) as never;
}

/**
 * A domain's commands, sent on the domain's own topic: the topic is not written per command,
 * so none can be filed on another domain's.
 */
const domain = <D extends CommandDomain, S extends Record<string, Spec<never, unknown, never, unknown>>>(name: D, specs: S) =>
  inDomain(name, specs, { topic: topics[`${name}Commands`] });

const byId = (request: { id?: string | null }) => request.id;
const anyPartition = () => undefined;

const registry = {
  ...domain('system', {
    ping: query(mart.common.Ping, mart.common.Pong, anyPartition),
  }),
  ...domain('brand', {
    create: mutation(mart.brand.CreateBrand, mart.brand.Brand, byId),
    update: mutation(mart.brand.UpdateBrand, mart.brand.Brand, byId),
    delete: mutation(mart.common.IdRequest, mart.common.Empty, byId),
    get: query(mart.common.IdRequest, mart.brand.Brand, byId),
    list: query(mart.brand.ListBrands, mart.brand.BrandPage, anyPartition),
  }),
  ...domain('category', {
    create: mutation(mart.category.CreateCategory, mart.category.Category, byId),
    update: mutation(mart.category.UpdateCategory, mart.category.Category, byId),
    delete: mutation(mart.common.IdRequest, mart.common.Empty, byId),
    get: query(mart.common.IdRequest, mart.category.Category, byId),
    list: query(mart.category.ListCategories, mart.category.CategoryPage, anyPartition),
  }),
  ...domain('product', {
    create: mutation(mart.product.CreateProduct, mart.product.Product, byId),
    update: mutation(mart.product.UpdateProduct, mart.product.Product, byId),
    delete: mutation(mart.common.IdRequest, mart.common.Empty, byId),
    get: query(mart.product.GetProduct, mart.product.Product, byId),
    list: query(mart.product.ListProducts, mart.product.ProductPage, anyPartition),
    import: mutation(mart.product.ImportProducts, mart.product.ImportResult, anyPartition),
  }),
  ...domain('user', {
    create: mutation(mart.user.CreateUser, mart.user.User, byId),
    update: mutation(mart.user.UpdateUser, mart.user.User, byId),
    delete: mutation(mart.common.IdRequest, mart.common.Empty, byId),
    get: query(mart.common.IdRequest, mart.user.User, byId),
    list: query(mart.user.ListUsers, mart.user.UserPage, anyPartition),
    'ensure-admin': mutation(mart.user.EnsureAdmin, mart.user.EnsureAdminResult, () => 'bootstrap-admin'),
  }),
  ...domain('customer', {
    register: mutation(mart.customer.RegisterCustomer, mart.customer.Customer, byId),
    update: mutation(mart.customer.UpdateCustomer, mart.customer.Customer, byId),
    'set-password': mutation(mart.customer.SetCustomerPassword, mart.common.Empty, byId),
    delete: mutation(mart.common.IdRequest, mart.common.Empty, byId),
    get: query(mart.common.IdRequest, mart.customer.Customer, byId),
    list: query(mart.customer.ListCustomers, mart.customer.CustomerPage, anyPartition),
  }),
  ...domain('auth', {
    'get-credentials': query(mart.auth.GetCredentials, mart.auth.Credentials, (r) => r.email),
    'issue-refresh-token': mutation(mart.auth.IssueRefreshToken, mart.common.Empty, (r) => r.familyId),
    'rotate-refresh-token': mutation(mart.auth.RotateRefreshToken, mart.auth.RotateResult, (r) => r.tokenHash),
    'revoke-refresh-token': mutation(mart.auth.RevokeRefreshToken, mart.common.Empty, (r) => r.tokenHash),
  }),
  ...domain('inventory', {
    get: query(mart.inventory.GetStock, mart.inventory.StockRecord, (r) => r.productId),
    set: mutation(mart.inventory.SetStock, mart.inventory.StockRecord, (r) => r.productId),
    adjust: mutation(mart.inventory.AdjustStock, mart.inventory.StockRecord, (r) => r.productId),
    'list-adjustments': query(mart.inventory.ListAdjustments, mart.inventory.AdjustmentPage, (r) => r.productId),
  }),
  ...domain('order', {
    place: mutation(mart.order.PlaceOrder, mart.order.Order, byId),
    get: query(mart.order.GetOrder, mart.order.Order, byId),
    list: query(mart.order.ListOrders, mart.order.OrderPage, anyPartition),
    transition: mutation(mart.order.TransitionOrder, mart.order.Order, byId),
  }),
  ...domain('payment', {
    create: mutation(mart.payment.CreatePayment, mart.payment.Payment, (r) => r.orderId),
    'attach-provider-payment': mutation(mart.payment.AttachProviderPayment, mart.payment.Payment, byId),
    'record-outcome': mutation(mart.payment.RecordPaymentOutcome, mart.payment.Payment, (r) => r.id ?? r.providerPaymentId),
    'request-refund': mutation(mart.payment.RequestRefund, mart.payment.RefundRequested, (r) => r.paymentId),
    'record-refund': mutation(mart.payment.RecordRefund, mart.payment.Payment, (r) => r.refundId),
    get: query(mart.payment.GetPayment, mart.payment.Payment, byId),
    list: query(mart.payment.ListPayments, mart.payment.PaymentPage, anyPartition),
  }),
  ...domain('notification', {
    'record-attempt': mutation(mart.notification.RecordAttempt, mart.notification.Notification, byId),
    list: query(mart.notification.ListNotifications, mart.notification.NotificationPage, anyPartition),
    'list-due': query(mart.notification.ListDueNotifications, mart.notification.DueNotifications, anyPartition),
    claim: mutation(mart.notification.ClaimNotification, mart.notification.ClaimResult, byId),
  }),
};

type Parts<D> =
  D extends Spec<infer ReqIn, infer ReqOut, infer ResIn, infer ResOut>
    ? { reqIn: ReqIn; reqOut: ReqOut; resIn: ResIn; resOut: ResOut }
    : never;
type CommandTypes = { [N in keyof typeof registry]: Parts<(typeof registry)[N]> };
export type CommandName = keyof CommandTypes;
/** What a caller sends (plain object). */
export type CommandRequest<N extends CommandName> = CommandTypes[N]['reqIn'];
/** What db-service's handler receives (decoded message). */
export type CommandInput<N extends CommandName> = CommandTypes[N]['reqOut'];
/** What db-service's handler returns (plain object to encode). */
export type CommandResult<N extends CommandName> = CommandTypes[N]['resIn'];
/** What the caller gets back (decoded message). */
export type CommandReply<N extends CommandName> = CommandTypes[N]['resOut'];

/**
 * Every command, typed per name: `commands[name]` for a generic name is that name's definition,
 * so callers encode and decode through it without casts.
 */
export const commands: {
  [N in CommandName]: CommandDefinition<CommandRequest<N>, CommandInput<N>, CommandResult<N>, CommandReply<N>>;
} = registry;

export function isCommandName(name: string): name is CommandName {
  return Object.hasOwn(commands, name);
}

/** The domains that own an event topic, `mart.<domain>.events`. */
type EventDomain = { [K in keyof typeof topics]: K extends `${infer D}Events` ? D : never }[keyof typeof topics];

export interface EventDefinition<In, Out> {
  topic: TopicName;
  type: MessageCodec<In, Out>;
  key(event: In): string;
}

type EventSpec<In, Out> = Omit<EventDefinition<In, Out>, 'topic'>;

function event<In, Out>(type: MessageCodec<In, Out>, key: (event: NoInfer<In>) => string | null | undefined): EventSpec<In, Out> {
  return { type, key: (e) => key(e) ?? '' };
}

/** A domain's events, published on the domain's own event topic. */
const domainEvents = <D extends EventDomain, S extends Record<string, EventSpec<never, unknown>>>(name: D, specs: S) =>
  inDomain(name, specs, { topic: topics[`${name}Events`] });

const eventRegistry = {
  ...domainEvents('brand', {
    created: event(mart.brand.BrandCreated, (e) => e.brand?.id),
    updated: event(mart.brand.BrandUpdated, (e) => e.brand?.id),
    deleted: event(mart.brand.BrandDeleted, (e) => e.id),
  }),
  ...domainEvents('category', {
    created: event(mart.category.CategoryCreated, (e) => e.category?.id),
    updated: event(mart.category.CategoryUpdated, (e) => e.category?.id),
    deleted: event(mart.category.CategoryDeleted, (e) => e.id),
  }),
  ...domainEvents('product', {
    created: event(mart.product.ProductCreated, (e) => e.product?.id),
    updated: event(mart.product.ProductUpdated, (e) => e.product?.id),
    deleted: event(mart.product.ProductDeleted, (e) => e.id),
  }),
  ...domainEvents('customer', {
    registered: event(mart.customer.CustomerRegistered, (e) => e.customer?.id),
    deleted: event(mart.customer.CustomerDeleted, (e) => e.id),
  }),
  ...domainEvents('inventory', {
    'stock-changed': event(mart.inventory.StockChanged, (e) => e.stock?.productId),
  }),
  ...domainEvents('order', {
    placed: event(mart.order.OrderPlaced, (e) => e.order?.id),
    'status-changed': event(mart.order.OrderStatusChanged, (e) => e.order?.id),
  }),
  ...domainEvents('payment', {
    'status-changed': event(mart.payment.PaymentStatusChanged, (e) => e.payment?.orderId),
    'refund-requested': event(mart.payment.RefundRequested, (e) => e.payment?.orderId),
  }),
  ...domainEvents('notification', {
    // Keyed by recipient: one customer's emails go out in the order they were queued.
    queued: event(mart.notification.NotificationQueued, (e) => e.notification?.to),
  }),
};

type EventParts<D> = D extends EventSpec<infer In, infer Out> ? { in: In; out: Out } : never;
type EventTypes = { [N in keyof typeof eventRegistry]: EventParts<(typeof eventRegistry)[N]> };
export type EventName = keyof EventTypes;
/** What a publisher writes (plain object). */
export type EventPayload<N extends EventName> = EventTypes[N]['in'];
/** What a consumer receives (decoded message). */
export type EventMessage<N extends EventName> = EventTypes[N]['out'];

/** Every event, typed per name like `commands`. */
export const events: { [N in EventName]: EventDefinition<EventPayload<N>, EventMessage<N>> } = eventRegistry;

export function isEventName(name: string): name is EventName {
  return Object.hasOwn(events, name);
}

/** Kafka header names of Mart's messaging protocol. */
export const headers = {
  type: 'mart-type',
  commandId: 'mart-command-id',
  correlationId: 'mart-correlation-id',
  replyTo: 'mart-reply-to',
  deadline: 'mart-deadline',
  status: 'mart-status',
  eventId: 'mart-event-id',
  requestId: 'mart-request-id',
  traceparent: 'traceparent',
  /** On a dead letter: why, and the topic it came from. */
  deadLetterReason: 'mart-dead-letter-reason',
  sourceTopic: 'mart-source-topic',
} as const;

/** Every topic Mart uses, with its partition count, for start-up topic creation. */
export function allTopics(): { topic: string; numPartitions: number }[] {
  const declared = Object.values(topics).map((topic) => ({
    topic,
    numPartitions:
      topic === topics.deadLetter ? partitions.deadLetter : topic.endsWith('.commands') ? partitions.commands : partitions.events,
  }));
  return declared;
}
