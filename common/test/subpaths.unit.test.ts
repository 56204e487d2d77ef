import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const commonDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const exportsMap = (JSON.parse(readFileSync(path.join(commonDir, 'package.json'), 'utf8')) as { exports: Record<string, string> }).exports;

/** The packages a module loads, following its relative imports through @mart/common's sources. */
function packagesLoadedBy(file: string, seen = new Set<string>()): Set<string> {
  const packages = new Set<string>();
  if (seen.has(file)) return packages;
  seen.add(file);
  // Type-only imports are erased and load nothing.
  for (const [, typeOnly, specifier] of readFileSync(file, 'utf8').matchAll(
    /^(?:import|export)\s+(type\s+)?(?:[^'";]*?\bfrom\s*)?['"]([^'"]+)['"]/gm,
  )) {
    if (typeOnly || !specifier) continue;
    if (specifier.startsWith('.')) for (const p of packagesLoadedBy(path.resolve(path.dirname(file), specifier), seen)) packages.add(p);
    else if (!specifier.startsWith('node:'))
      packages.add(
        specifier
          .split('/')
          .slice(0, specifier.startsWith('@') ? 2 : 1)
          .join('/'),
      );
  }
  return packages;
}

const heavy = ['kafkajs', 'express', 'bcryptjs', 'jsonwebtoken', 'prom-client'];

describe('@mart/common subpaths', () => {
  // The domain field rules are loaded by schema files and by db-service's handlers alike.
  const domainSubpaths = Object.keys(exportsMap).filter((subpath) => subpath.startsWith('./domain/'));
  for (const subpath of ['./errors', './ids', './config', './zod', './logger', './tracing', './alarm', ...domainSubpaths]) {
    it(`${subpath} loads none of ${heavy.join(', ')}`, () => {
      const loaded = packagesLoadedBy(path.join(commonDir, exportsMap[subpath]!));
      expect([...loaded].filter((p) => heavy.includes(p))).to.deep.equal([]);
    });
  }

  it('the graph walk sees what a subpath loads', () => {
    expect([...packagesLoadedBy(path.join(commonDir, exportsMap['./kafka']!))]).to.include.members(['kafkajs', 'prom-client']);
    expect([...packagesLoadedBy(path.join(commonDir, exportsMap['./http']!))]).to.include.members(['express', 'jsonwebtoken']);
  });
});
