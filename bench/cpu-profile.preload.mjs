// `npm run bench -- --profile <dir>` loads this into every service and B1 through NODE_OPTIONS=--import,
// because Node 20 refuses --cpu-prof in NODE_OPTIONS and the stack decides the services' command lines.
// Plain JavaScript: it loads before any TypeScript loader. It samples every 1 ms from the start and
// writes <dir>/<pid>.cpuprofile (V8's format, as --cpu-prof writes) when the process exits.
import fs from 'node:fs';
import { Session } from 'node:inspector';
import path from 'node:path';
import process from 'node:process';

const dir = process.env.BENCH_CPU_PROFILE_DIR;
if (dir) {
  const session = new Session();
  session.connect();
  session.post('Profiler.enable');
  session.post('Profiler.setSamplingInterval', { interval: 1000 });
  session.post('Profiler.start');
  // An in-process session answers synchronously, so the profile is written before the process is gone.
  process.once('exit', () => {
    session.post('Profiler.stop', (error, result) => {
      if (error) process.stderr.write(`cpu profile lost: ${error.message}\n`);
      else fs.writeFileSync(path.join(dir, `${process.pid}.cpuprofile`), JSON.stringify(result.profile));
    });
  });
}
