import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { expect } from 'chai';

import { SERVICES, builtServices, serviceEntry, serviceSource, servicesWithSource, serviceUrlVariable } from '../services.ts';

describe('services', () => {
  it('gives every service its own name and port, db-service first', () => {
    expect(SERVICES[0].name).to.equal('db-service');
    expect(new Set(SERVICES.map((service) => service.name)).size).to.equal(SERVICES.length);
    expect(new Set(SERVICES.map((service) => service.port)).size).to.equal(SERVICES.length);
  });

  it('builds a service that has a src/main.ts, and counts it as built once its dist/main.js exists', () => {
    const rootDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mart-services-'));
    const write = (file: string) => {
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(file, '');
    };
    try {
      write(serviceSource('brand-service', rootDir));
      write(serviceSource('order-service', rootDir));
      write(serviceEntry('brand-service', rootDir));
      fs.mkdirSync(path.join(rootDir, 'user-service', 'src'), { recursive: true });
      expect(servicesWithSource(rootDir)).to.deep.equal(['brand-service', 'order-service']);
      expect(builtServices(rootDir)).to.deep.equal(['brand-service']);
    } finally {
      fs.rmSync(rootDir, { recursive: true, force: true });
    }
  });

  it('names the e2e URL variable after the service', () => {
    expect(serviceUrlVariable('brand-service')).to.equal('MART_URL_BRAND_SERVICE');
    expect(serviceUrlVariable('db-service')).to.equal('MART_URL_DB_SERVICE');
  });
});
