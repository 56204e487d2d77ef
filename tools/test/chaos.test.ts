import { expect } from 'chai';

import { boundedRun, fullRun } from '../chaos.ts';
import { TEST_PORT_OFFSET, portsAt } from '../services.ts';

/** Linux's default ip_local_port_range: outgoing connections take their local port from it. */
const EPHEMERAL_PORTS = { first: 32_768, last: 60_999 };
const BROKER_PORTS = [9092, 9093];

function stackPortsAt(offset: number): number[] {
  return [...Object.values(portsAt(offset)), ...BROKER_PORTS.map((port) => port + offset)];
}

describe('chaos', () => {
  const ports = [...stackPortsAt(fullRun.portOffset), fullRun.postgresPort];

  it('runs the bounded suite on the same ports as the full one', () => {
    expect([boundedRun.portOffset, boundedRun.postgresPort]).to.deep.equal([fullRun.portOffset, fullRun.postgresPort]);
  });

  it('keeps every port below the ephemeral range, where an outgoing connection could hold one', () => {
    expect(ports.filter((port) => port >= EPHEMERAL_PORTS.first && port <= EPHEMERAL_PORTS.last)).to.deep.equal([]);
  });

  it('shares no port with the dev or test stack', () => {
    const taken = new Set([...stackPortsAt(0), ...stackPortsAt(TEST_PORT_OFFSET), 5432]);
    expect(ports.filter((port) => taken.has(port))).to.deep.equal([]);
  });
});
