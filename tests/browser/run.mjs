// A small sequential test runner. The scenarios build on each other (sign
// in, upload, watch, filter, download, retry, sign out), so they run in
// order in one browser; a test whose prerequisite failed fails too, saying
// why. Prints one line per test and, last, "N passed, N failed".
//
//   node run.mjs                 every test
//   node run.mjs -g download     the tests whose name matches, with what they need

const registry = [];

// test(name, fn, {needs: [names], timeout: ms})
export function test(name, fn, opts = {}) {
  registry.push({ name, fn, needs: opts.needs || [], timeout: opts.timeout || 120000 });
}

function withTimeout(p, ms, name) {
  let t;
  return Promise.race([
    p.finally(() => clearTimeout(t)),
    new Promise((_, rej) => { t = setTimeout(() => rej(new Error(`timed out after ${ms / 1000} s: ${name}`)), ms); }),
  ]);
}

function select(pattern) {
  if (!pattern) return registry;
  const re = new RegExp(pattern, 'i');
  const want = new Set();
  const add = (t) => {
    if (want.has(t.name)) return;
    want.add(t.name);
    for (const n of t.needs) {
      const d = registry.find((x) => x.name === n);
      if (d) add(d);
    }
  };
  registry.filter((t) => re.test(t.name)).forEach(add);
  return registry.filter((t) => want.has(t.name));
}

export async function runAll({ setup, teardown } = {}) {
  const args = process.argv.slice(2);
  const gi = args.indexOf('-g');
  const list = select(gi >= 0 ? args[gi + 1] : process.env.BC_GREP);
  const failed = new Set();
  let pass = 0;
  let fail = 0;
  console.log(`1..${list.length}`);
  let ctx = null;
  try {
    ctx = setup ? await setup() : {};
  } catch (e) {
    console.log(`# setup failed: ${e.stack || e}`);
    for (const t of list) failed.add(t.name);
  }
  let n = 0;
  for (const t of list) {
    n += 1;
    const t0 = Date.now();
    const missing = t.needs.filter((x) => failed.has(x));
    if (failed.has(t.name) || missing.length) {
      fail += 1;
      failed.add(t.name);
      console.log(`not ok ${n} - ${t.name} # not run: ${missing.length ? `needs "${missing.join('", "')}"` : 'setup failed'}`);
      continue;
    }
    try {
      await withTimeout(Promise.resolve().then(() => t.fn(ctx)), t.timeout, t.name);
      pass += 1;
      console.log(`ok ${n} - ${t.name} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
    } catch (e) {
      fail += 1;
      failed.add(t.name);
      console.log(`not ok ${n} - ${t.name} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
      for (const line of String((e && e.stack) || e).split('\n').slice(0, 20)) console.log(`#   ${line}`);
      if (ctx && ctx.onFailure) {
        try {
          await ctx.onFailure(t.name);
        } catch {
          // a failed screenshot must not hide the real failure
        }
      }
    }
  }
  if (teardown) {
    try {
      await teardown(ctx);
    } catch (e) {
      console.log(`# teardown: ${e}`);
    }
  }
  console.log(`${pass} passed, ${fail} failed`);
  return fail === 0 ? 0 : 1;
}
