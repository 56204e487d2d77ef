import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { expect } from 'chai';

import { findSpecFiles, globToRegExp, parseMochaCounts, selectSuites } from '../test.ts';

describe('test runner', () => {
  describe('selectSuites', () => {
    it('runs every suite and file when nothing is named', () => {
      const { suites, spec } = selectSuites([]);
      expect(suites.map((suite) => suite.name)).to.deep.equal(['unit', 'integration', 'e2e', 'chaos']);
      expect(spec).to.deep.equal([]);
    });

    it('keeps the named suites in run order, with the files asked for', () => {
      const { suites, spec } = selectSuites(['e2e', 'unit', '--spec', 'tools/test/a*', '--spec', 'x.ts']);
      expect(suites.map((suite) => suite.name)).to.deep.equal(['unit', 'e2e']);
      expect(spec).to.deep.equal(['tools/test/a*', 'x.ts']);
    });

    it('refuses a suite that does not exist', () => {
      expect(() => selectSuites(['e2e', 'load'])).to.throw(/Unknown suite load/);
    });
  });

  describe('parseMochaCounts', () => {
    it('reads the totals of the spec reporter, colours or not', () => {
      const output =
        '  brand\n    ✔ lists\n\n\n  \u001b[92m12 passing\u001b[0m (40ms)\n  \u001b[36m1 pending\u001b[0m\n  2 failing\n\n  1) brand\n';
      expect(parseMochaCounts(output)).to.deep.equal({ passed: 12, failed: 2, pending: 1 });
    });

    it('reads nothing from a run that died before reporting', () => {
      expect(parseMochaCounts('SyntaxError: Unexpected token')).to.deep.equal({ passed: 0, failed: 0, pending: 0 });
    });
  });

  describe('globToRegExp', () => {
    const unit = globToRegExp('*/test/**/*.unit.test.ts');

    it('lets ** span any number of folders, including none', () => {
      expect(unit.test('brand-service/test/brand.unit.test.ts')).to.equal(true);
      expect(unit.test('brand-service/test/a/b/brand.unit.test.ts')).to.equal(true);
    });

    it('keeps * within one folder and matches whole paths', () => {
      expect(unit.test('brand-service/src/brand.unit.test.ts')).to.equal(false);
      expect(unit.test('a/brand-service/test/brand.unit.test.ts')).to.equal(false);
      expect(unit.test('brand-service/test/brand.unit.test.tsx')).to.equal(false);
      expect(unit.test('brand-service/test/brand_unit_test.ts')).to.equal(false);
    });
  });

  describe('findSpecFiles', () => {
    it('finds the files a suite would run, never inside node_modules', async () => {
      const rootDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mart-specs-'));
      try {
        for (const file of [
          'brand-service/test/brand.unit.test.ts',
          'brand-service/test/brand.e2e.test.ts',
          'node_modules/test/x.unit.test.ts',
        ]) {
          fs.mkdirSync(path.join(rootDir, path.dirname(file)), { recursive: true });
          fs.writeFileSync(path.join(rootDir, file), '');
        }
        expect(await findSpecFiles(['*/test/**/*.unit.test.ts'], rootDir)).to.deep.equal(['brand-service/test/brand.unit.test.ts']);
      } finally {
        fs.rmSync(rootDir, { recursive: true, force: true });
      }
    });
  });
});
