import { commands, type CommandInput, type CommandName, type CommandRequest, type CommandResult } from '@mart/proto';
import { AppError } from '../errors.ts';
import { encodeError } from '../kafka/command.server.ts';
import { decodeErrorReply, type CallOptions, type RpcCaller } from '../kafka/rpc.client.ts';

/**
 * db-service's side of one command: gets the request as db-service would decode it, returns what
 * its handler would, or throws an AppError to answer with an error reply.
 */
export type FakeHandler<N extends CommandName> = (
  request: CommandInput<N>,
  options: CallOptions,
) => CommandResult<N> | Promise<CommandResult<N>>;

export type FakeHandlers = { [N in CommandName]?: FakeHandler<N> };

/** One call as the service made it: the request as sent, before the wire. */
export interface FakeCall {
  name: CommandName;
  request: CommandRequest<CommandName>;
  options: CallOptions;
}

export interface FakeRpc extends RpcCaller {
  /** Every call, in order, the unfaked ones included. */
  readonly calls: FakeCall[];
  /** The requests sent as `name`, in order. */
  sent<N extends CommandName>(name: N): CommandRequest<N>[];
  /** While set, every call fails with it: an AppError arrives as its error reply would. */
  failWith: Error | undefined;
}

/** What the caller gets from an error reply carrying `error`: the same class, code, message and details. */
function throughTheWire(error: AppError): AppError {
  return decodeErrorReply(encodeError(error).body);
}

/**
 * An rpc client for unit tests that answers from `handlers`, typed by the command registry, and
 * passes requests and replies through the registry's codecs, so the service sees what Kafka
 * would bring it (defaults filled in, numbers for int64, unknown fields gone). A command with no
 * handler rejects, naming it.
 */
export function fakeRpc(handlers: FakeHandlers = {}): FakeRpc {
  const calls: FakeCall[] = [];

  async function answer<N extends CommandName>(name: N, request: CommandRequest<N>, options: CallOptions): Promise<CommandResult<N>> {
    const handler: FakeHandlers[N] = handlers[name];
    if (!handler) throw new Error(`fakeRpc: no handler for ${name}; add one to the test's fakeRpc({ ... })`);
    const codecs = commands[name];
    return handler(codecs.request.decode(codecs.request.encode(request).finish()), options);
  }

  const rpc: FakeRpc = {
    calls,
    failWith: undefined,
    sent: (name) => calls.filter((call) => call.name === name).map((call) => call.request),
    async call(name, request, options = {}) {
      calls.push({ name, request, options });
      try {
        if (rpc.failWith) throw rpc.failWith;
        const codecs = commands[name];
        return codecs.reply.decode(codecs.reply.encode(await answer(name, request, options)).finish());
      } catch (error) {
        throw error instanceof AppError ? throughTheWire(error) : error;
      }
    },
  };
  return rpc;
}
