import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { expect } from 'chai';

import { SERVICES, serviceEntry, serviceSource, servicesWithSource, serviceUrlVariable } from '../services.ts';

describe('services', () => {
  it('gives every service its own name and port, db-service first', () => {
    expect(SERVICES[0].name).to.equal('db-service');
    expect(new Set(SERVICES.map((service) => service.name)).size).to.equal(SERVICES.length);
    expect(new Set(SERVICES.map((service) => service.port)).size).to.equal(SERVICES.length);
  });

  it('counts a service once its src/main.ts exists, and runs its bundle from dist/', () => {
    const rootDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mart-services-'));
    try {
      fs.mkdirSync(path.dirname(serviceSource('brand-service', rootDir)), { recursive: true });
      fs.writeFileSync(serviceSource('brand-service', rootDir), '');
      fs.mkdirSync(path.join(rootDir, 'order-service', 'src'), { recursive: true });
      expect(servicesWithSource(rootDir)).to.deep.equal(['brand-service']);
      expect(serviceEntry('brand-service', rootDir)).to.equal(path.join(rootDir, 'brand-service', 'dist', 'main.js'));
    } finally {
      fs.rmSync(rootDir, { recursive: true, force: true });
    }
  });

  it('names the e2e URL variable after the service', () => {
    expect(serviceUrlVariable('brand-service')).to.equal('MART_URL_BRAND_SERVICE');
    expect(serviceUrlVariable('db-service')).to.equal('MART_URL_DB_SERVICE');
  });
});
