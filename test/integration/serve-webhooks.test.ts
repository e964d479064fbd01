// Job webhooks of `srgan serve`, on 127.0.0.1 only: a receiver here gets each job's end once, signed;
// a failing receiver is retried, a 4xx or a redirect is not (and the redirect is not followed);
// callbacks to hosts off the list, to names that resolve to loopback, or with other schemes are
// refused at submission; and the socket connects to the address that was checked (a resolver that
// answers differently at delivery, as in DNS rebinding, gets nothing sent). Bicubic on tiny images.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import type { LookupAddress } from "node:dns";
import { createServer, type ServerOptions, type SrganServer } from "../../packages/server/src/index.js";
import { WebhookTargets } from "../../packages/server/src/webhook-target.js";
import { DeliveryError, WebhookSender } from "../../packages/server/src/webhooks.js";
import { assertError, picture, post, receiver, until, verified } from "../serve-helpers.js";

const test = suite("serve-webhooks");
const SECRET = "test-secret-0123456789";
const small = picture(40, 28, 1);
const truncated = picture(30, 20, 3).subarray(0, -40);

async function start(options: ServerOptions): Promise<{ app: SrganServer; url: string }> {
  const app = await createServer({ model: "bicubic", threads: 0, webhookAllow: ["127.0.0.1"], webhookSecret: SECRET, ...options });
  return { app, url: await app.listen({ host: "127.0.0.1", port: 0 }) };
}

const submit = async (url: string, body: Uint8Array, callback: string) => {
  const r = await post(`${url}/v1/jobs?callback=${encodeURIComponent(callback)}`, body);
  assert.is(r.status, 202, await r.clone().text());
  return (await r.json() as { id: string }).id;
};
const settle = (ms: number) => new Promise((r) => setTimeout(r, ms));

test("a job's end arrives once at the callback, signed; a failed job's with its error", async () => {
  const hook = await receiver();
  const { app, url } = await start({});
  try {
    const id = await submit(url, small, `${hook.url}/done?x=1`);
    const bad = await submit(url, truncated, `${hook.url}/done`);
    await until("both webhooks", async () => (hook.got.length >= 2 ? true : undefined), 20_000);
    await settle(500); // a second delivery of either would come now
    assert.is(hook.got.length, 2);
    const byId = new Map(hook.got.map((g) => [JSON.parse(g.body).id as string, g]));
    assert.equal(JSON.parse(byId.get(id)!.body), { id, state: "completed" });
    const failed = JSON.parse(byId.get(bad)!.body);
    assert.equal([failed.id, failed.state, failed.error.code], [bad, "failed", "ERR_IMAGE_DECODE"]);
    for (const g of hook.got) {
      assert.ok(verified(g, SECRET), "signed with the server's secret");
      assert.not.ok(verified(g, "another-secret-0123"), "and not with another");
      assert.is(g.headers["content-type"], "application/json");
      assert.is(g.headers["srgan-webhook-id"], JSON.parse(g.body).id);
    }
    // Sent once the job has ended: the receiver can fetch the result at once.
    assert.is((await fetch(`${url}/v1/jobs/${id}/result`)).status, 200);
  } finally {
    await app.close();
    await hook.close();
  }
});

test("a receiver that fails (500) is retried with backoff; a 4xx or a redirect is not, and the redirect is not followed", async () => {
  const flaky = await receiver([500, 503]);
  const gone = await receiver([410]);
  const elsewhere = await receiver();
  const moved = await receiver([302], { location: `${elsewhere.url}/` });
  const { app, url } = await start({});
  try {
    const t0 = performance.now();
    const id = await submit(url, small, flaky.url);
    await until("the third attempt", async () => (flaky.got.length >= 3 ? true : undefined), 20_000);
    const [first, second, third] = flaky.got.map((g) => g.at - t0);
    assert.ok(second - first >= 900 && third - second >= 1900, `waits ${second - first} ms, ${third - second} ms: 1 s, then 2 s`);
    assert.ok(flaky.got.every((g) => JSON.parse(g.body).id === id && verified(g, SECRET)));
    await submit(url, small, gone.url);
    await submit(url, small, moved.url);
    await until("both", async () => (gone.got.length && moved.got.length ? true : undefined), 20_000);
    await settle(1500); // past the first retry's time
    assert.equal([gone.got.length, moved.got.length, elsewhere.got.length, flaky.got.length], [1, 1, 0, 3]);
  } finally {
    await app.close();
    await Promise.all([flaky, gone, elsewhere, moved].map((r) => r.close()));
  }
});

test("callbacks are refused at submission (400, no job queued): hosts off the list, names that resolve to loopback, other schemes, credentials; a server without webhooks", async () => {
  const hook = await receiver();
  const port = new URL(hook.url).port;
  const { app, url } = await start({ webhookAllow: ["127.0.0.2", "localhost"] });
  const none = await createServer({ model: "bicubic", threads: 0 });
  const noneUrl = await none.listen({ host: "127.0.0.1", port: 0 });
  try {
    const refused = async (callback: string, why: RegExp, at = url) =>
      assertError(await post(`${at}/v1/jobs?callback=${encodeURIComponent(callback)}`, small), 400, "ERR_BAD_REQUEST", why);
    await refused(`http://127.0.0.3:${port}/`, /host '127.0.0.3' is not one this server sends webhooks to/);
    await refused("http://169.254.169.254/latest/meta-data/", /host '169.254.169.254' is not one/);
    await refused("http://example.com/hook", /host 'example.com' is not one/);
    await refused(`http://localhost:${port}/`, /'localhost' resolves to (127.0.0.1|::1), which is not a public address/);
    await refused(`ftp://127.0.0.2:${port}/`, /scheme is ftp/);
    await refused(`http://user:pw@127.0.0.2:${port}/`, /user name or password/);
    await assertError(await post(`${url}/v1/jobs?callback=not-a-url`, small), 400, "ERR_BAD_REQUEST", /callback must be an absolute URL/);
    await assertError(await post(`${url}/v1/upscale?callback=${encodeURIComponent(hook.url)}`, small), 400, "ERR_BAD_REQUEST", /unknown query parameter 'callback'/);
    await refused(hook.url, /this server sends no webhooks/, noneUrl);
    assert.equal(await (await fetch(`${url}/healthz`)).json(), { status: "ok", waiting: 0, active: 0 });
    assert.match(await (await fetch(`${url}/metrics`)).text(), /srgan_jobs\{state="completed"\} 0\n/);
    assert.is(hook.got.length, 0);
  } finally {
    await Promise.all([app.close(), none.close()]);
    await hook.close();
  }
});

test("delivery connects to the address it checked: a name is sent to its checked address; one that re-resolves to loopback (rebinding) gets nothing", async () => {
  const hook = await receiver();
  const port = new URL(hook.url).port;
  const answers: Record<string, string[]> = { "hooks.test": ["127.0.0.1"], "rebind.test": ["93.184.216.34"] };
  const resolve = async (host: string): Promise<LookupAddress[]> => (answers[host] ?? []).map((address) => ({ address, family: address.includes(":") ? 6 : 4 }));
  try {
    // hooks.test is on the list and its address (loopback) too; no real DNS knows it: the socket used ours.
    const targets = new WebhookTargets(["hooks.test", "127.0.0.1"], "allow", resolve);
    const sender = new WebhookSender(targets, SECRET);
    const callback = await targets.check(`http://hooks.test:${port}/x`);
    await sender.send({ callback, payload: { id: "job-1", state: "completed" } });
    assert.is(hook.got.length, 1);
    assert.is(hook.got[0].headers.host, `hooks.test:${port}`);
    // rebind.test: public when the job is submitted, loopback when the webhook is sent.
    const rebinding = new WebhookTargets(["rebind.test"], "allow", resolve);
    const checked = await rebinding.check(`http://rebind.test:${port}/x`);
    answers["rebind.test"] = ["127.0.0.1"];
    const failure = await new WebhookSender(rebinding, SECRET).send({ callback: checked, payload: { id: "job-2", state: "completed" } }).catch((e: unknown) => e);
    assert.instance(failure, DeliveryError);
    assert.match((failure as Error).message, /resolves to 127.0.0.1, which is not a public address/);
    assert.is(hook.got.length, 1, "nothing reached the receiver");
    // One public and one private address is refused as a whole.
    answers["rebind.test"] = ["93.184.216.34", "10.0.0.1"];
    await assertRefused(rebinding.check(`http://rebind.test:${port}/x`), /resolves to 10.0.0.1/);
  } finally {
    await hook.close();
  }
});

async function assertRefused(p: Promise<unknown>, why: RegExp): Promise<void> {
  const e = await p.then(() => undefined, (x: Error & { code?: string }) => x);
  assert.is(e?.code, "ERR_BAD_REQUEST");
  assert.match(e!.message, why);
}

test("which addresses count as public: loopback, private, link-local, CGNAT, ULA, mapped and embedded IPv4 do not, unless listed", async () => {
  const of = (address: string) => async () => [{ address, family: address.includes(":") ? 6 : 4 }];
  const notPublic = ["127.0.0.1", "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254", "100.64.0.1", "0.0.0.0", "224.0.0.1", "::1", "::", "fe80::1", "fd00::1", "::ffff:127.0.0.1", "::ffff:10.0.0.1", "64:ff9b::7f00:1", "2002:7f00:1::1"];
  for (const address of notPublic) await assertRefused(new WebhookTargets(["hook.test"], "allow", of(address)).check("https://hook.test/"), /not a public address/);
  for (const address of ["93.184.216.34", "2606:4700::1111", "::ffff:93.184.216.34"]) {
    assert.is(await new WebhookTargets(["hook.test"], "allow", of(address)).check("https://hook.test/"), "https://hook.test/", address);
  }
  // Listed networks and wildcards.
  assert.ok(await new WebhookTargets(["hook.test", "10.0.0.0/8"], "allow", of("10.9.9.9")).check("https://hook.test/"));
  assert.ok(await new WebhookTargets(["*.example.org"], "allow", of("93.184.216.34")).check("https://a.b.example.org/"));
  await assertRefused(new WebhookTargets(["*.example.org"], "allow", of("93.184.216.34")).check("https://example.org.evil.test/"), /not one this server sends/);
  assert.throws(() => new WebhookTargets(["10.0.0.0/33"], "allow"), /allow must list host names/);
});

test.run();
