// Every hub node in a real Node-RED runtime (node-red-node-test-helper), each talking
// through its Python child to a stand-in engine over real ZeroMQ ipc sockets; the
// stand-in publishes and answers with the JSON fixtures the engine's tests also check.
const { test, before, after, afterEach } = require("node:test");
const assert = require("node:assert/strict");
const { spawn } = require("node:child_process");
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");
const helper = require("node-red-node-test-helper");
const hubNodes = require("../hub.js");

helper.init(require.resolve("node-red"));
const PYTHON = process.env.HUB_NODES_PYTHON || path.join(__dirname, "..", "..", ".venv", "bin", "python");
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "hub-nodes-"));
let engine;

function startEngine() {
  return new Promise((resolve, reject) => {
    engine = spawn(PYTHON, ["-u", path.join(__dirname, "fake_engine.py"), dir]);
    engine.stdout.once("data", () => resolve());
    engine.on("error", reject);
  });
}

before(async () => {
  await startEngine();
  await new Promise((r) => helper.startServer(r));
});
after(async () => {
  engine.kill();
  await new Promise((r) => helper.stopServer(r));
});
afterEach(async () => { await helper.unload(); });

const config = { id: "hub", type: "hub-config", dataDir: dir, python: PYTHON, timeoutS: 2 };
const creds = { hub: { token: "hub_test" } };

function next(node, predicate = () => true, ms = 8000) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("no message in time")), ms);
    node.on("input", (msg) => { if (predicate(msg)) { clearTimeout(timer); resolve(msg); } });
  });
}

function statusOf(node, predicate, ms = 8000) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("no such status in time")), ms);
    const original = node.status.bind(node);
    node.status = (s) => { original(s); if (predicate(s)) { clearTimeout(timer); resolve(s); } };
  });
}

// A flow's error (done(err)) as a Catch node would see it.
function errorOf(node, ms = 8000) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("no error in time")), ms);
    node.on("call:error", (call) => { clearTimeout(timer); resolve(String(call.args[0])); });
  });
}

test("hub events: the fixture's status event, with its charge point and sequence", async () => {
  await helper.load(hubNodes, [config,
    { id: "ev", type: "hub-events", hub: "hub", topics: "event.cp.*.status", chargePoint: "CP-A01", wires: [["out"]] },
    { id: "out", type: "helper" }], creds);
  const msg = await next(helper.getNode("out"));
  assert.equal(msg.topic, "event.cp.CP-A01.status");
  assert.equal(msg.chargePoint, "CP-A01");
  assert.equal(msg.event, "status");
  assert.deepEqual(msg.payload, { connector_id: 1, status: "Charging", error_code: "NoError" });
  assert.ok(Number.isInteger(msg.hub.seq));
});

test("hub events: a pattern that matches nothing sends nothing; state after joining comes as a snapshot", async () => {
  await helper.load(hubNodes, [config,
    { id: "ev", type: "hub-events", hub: "hub", topics: "state.*", wires: [["out"]] },
    { id: "ev2", type: "hub-events", hub: "hub", topics: "event.cp.OTHER.*", wires: [["out2"]] },
    { id: "out", type: "helper" }, { id: "out2", type: "helper" }], creds);
  let other = 0;
  helper.getNode("out2").on("input", () => other++);
  const snap = await next(helper.getNode("out"), (m) => m.hub.snapshot === true);
  assert.equal(snap.topic, "state.ems.site");
  assert.equal(snap.payload.connectors[0].id, "CP-A01/1");
  await next(helper.getNode("out"), (m) => m.hub.snapshot === false);
  assert.equal(other, 0);
});

test("hub config: nodes show connected, and a refused token says so", async () => {
  await helper.load(hubNodes, [config,
    { id: "st", type: "hub-state", hub: "hub", wires: [[]] }], creds);
  await statusOf(helper.getNode("st"), (s) => s.fill === "green");
  await helper.unload();
  await helper.load(hubNodes, [config,
    { id: "st", type: "hub-state", hub: "hub", wires: [[]] }], { hub: { token: "hub_wrong" } });
  const s = await statusOf(helper.getNode("st"), (x) => /token refused/.test(x.text || ""));
  assert.equal(s.fill, "red");
});

test("hub command: the reply on the same message; a refusal goes to Catch", async () => {
  await helper.load(hubNodes, [config,
    { id: "cmd", type: "hub-command", hub: "hub", command: "cp.command", chargePoint: "CP-A01",
      commandName: "remote_start", wires: [["out"]] },
    { id: "out", type: "helper" }], creds);
  const cmd = helper.getNode("cmd");
  const got = next(helper.getNode("out"));
  cmd.receive({ payload: { id_tag: "B1", connector_id: 1 }, keep: "me" });
  const msg = await got;
  assert.equal(msg.keep, "me");
  assert.deepEqual(msg.payload.echo, { charge_point: "CP-A01", name: "remote_start",
                                       params: { id_tag: "B1", connector_id: 1 } });
  const refused = errorOf(cmd);
  cmd.receive({ payload: {}, chargePoint: "NOPE" });
  assert.match(await refused, /refused: no charge point NOPE/);
});

test("hub state: live state and EMS state", async () => {
  await helper.load(hubNodes, [config,
    { id: "st", type: "hub-state", hub: "hub", query: "live", wires: [["out"]] },
    { id: "out", type: "helper" }], creds);
  const got = next(helper.getNode("out"));
  helper.getNode("st").receive({});
  assert.equal((await got).payload.connectors[0].status, "Charging");
  const ems = next(helper.getNode("out"));
  helper.getNode("st").receive({ query: "ems" });
  assert.equal((await ems).payload.nodes[0].id, "grid");
});

test("hub limit: a number is the limit, with the node's expiry; no expiry, nothing sent", async () => {
  await helper.load(hubNodes, [config,
    { id: "lim", type: "hub-limit", hub: "hub", target: "parking", unit: "A", expiresInS: 900,
      onExpiry: "release", wires: [["out"]] },
    { id: "bad", type: "hub-limit", hub: "hub", target: "parking", unit: "A", expiresInS: "",
      wires: [["out"]] },
    { id: "cmd", type: "hub-command", hub: "hub", command: "", wires: [["seen"]] },
    { id: "out", type: "helper" }, { id: "seen", type: "helper" }], creds);
  const got = next(helper.getNode("out"));
  helper.getNode("lim").receive({ payload: 20 });
  const args = (await got).payload.echo;
  const fixture = JSON.parse(fs.readFileSync(path.join(__dirname, "..", "fixtures", "command-limit.json")));
  assert.deepEqual({ ...args, source: undefined }, { ...fixture.args, source: undefined });
  assert.equal(args.source, "node-red:lim");
  const refused = errorOf(helper.getNode("bad"));
  helper.getNode("bad").receive({ payload: 20 });
  assert.match(await refused, /mandatory expiry/);
  const seen = next(helper.getNode("seen"));
  helper.getNode("cmd").receive({ payload: { command: "fake.received" } });
  const commands = (await seen).payload.received.map((c) => c.command);
  assert.deepEqual(commands.filter((c) => c.startsWith("ems.")), ["ems.limit.set"]);
});

test("hub limit, priority mode: a tier with its expiry; a tier out of range is refused", async () => {
  await helper.load(hubNodes, [config,
    { id: "pri", type: "hub-limit", hub: "hub", target: "CP-A01/1", mode: "priority",
      expiresInS: 600, wires: [["out"]] },
    { id: "out", type: "helper" }], creds);
  const got = next(helper.getNode("out"));
  helper.getNode("pri").receive({ payload: 3 });
  assert.deepEqual((await got).payload.echo, { target: "CP-A01/1", source: "node-red:pri",
                                               tier: 3, expires_in_s: 600 });
  const refused = errorOf(helper.getNode("pri"));
  helper.getNode("pri").receive({ payload: 12 });
  assert.match(await refused, /tier: an integer from 1 to 9/);
  const cleared = next(helper.getNode("out"));
  helper.getNode("pri").receive({ payload: null });
  assert.deepEqual((await cleared).payload.echo, { target: "CP-A01/1", source: "node-red:pri" });
});

test("hub GTB table: site and connector registers, unknown never written as 0", async () => {
  await helper.load(hubNodes, [config,
    { id: "g", type: "hub-gtb", hub: "hub", wires: [["out"]] },
    { id: "out", type: "helper" }], creds);
  const got = next(helper.getNode("out"));
  const live = JSON.parse(JSON.stringify(require("./live.json")));
  helper.getNode("g").receive({ payload: live });
  const msg = await got;
  const r = msg.registers;
  assert.equal(r[0], 1);                                   // table version
  assert.equal(r[2] * 65536 + r[3], 90 * 230);             // site import W
  assert.equal(r[8] * 65536 + r[9], 48 * 230);             // charging W
  assert.equal(r[100], 3);                                 // CP-A01/1 Charging
  assert.equal(r[102] * 65536 + r[103], 48 * 230);         // its power W
  assert.equal(r[104], 160);                               // its limit, 0.1 A
  assert.equal(r[105] * 65536 + r[106], 1235);             // session energy Wh
  assert.deepEqual([r[112], r[113]], [0xffff, 0xffff]);    // CP-A02/1 power unknown
  assert.equal(msg.payload.register, "holding");
  assert.equal(msg.payload.value.length, r.length * 2);
});

test("hub config: the engine's HUB_BUS_*_ENDPOINT variables; nothing there says engine unreachable", async () => {
  const noDir = { ...config, dataDir: "" };
  const saved = { ...process.env };
  try {
    delete process.env.HUB_DATA_DIR;
    process.env.HUB_BUS_PUB_ENDPOINT = `ipc://${path.join(dir, "bus-events.sock")}`;
    process.env.HUB_BUS_ROUTER_ENDPOINT = `ipc://${path.join(dir, "bus-commands.sock")}`;
    await helper.load(hubNodes, [noDir,
      { id: "st", type: "hub-state", hub: "hub", wires: [[]] }], creds);
    await statusOf(helper.getNode("st"), (s) => s.fill === "green");
    await helper.unload();
    process.env.HUB_BUS_ROUTER_ENDPOINT = `ipc://${path.join(dir, "nobody.sock")}`;
    await helper.load(hubNodes, [noDir,
      { id: "st", type: "hub-state", hub: "hub", wires: [[]] }], creds);
    const s = await statusOf(helper.getNode("st"),
      (x) => x.text === "hub-config.status.unreachable", 12000);
    assert.equal(s.fill, "red");
  } finally {
    for (const k of ["HUB_BUS_PUB_ENDPOINT", "HUB_BUS_ROUTER_ENDPOINT", "HUB_DATA_DIR"]) {
      if (saved[k] === undefined) delete process.env[k]; else process.env[k] = saved[k];
    }
  }
});

test("hub config: a killed Python child is restarted and the nodes reconnect", async () => {
  await helper.load(hubNodes, [config,
    { id: "st", type: "hub-state", hub: "hub", wires: [["out"]] }, { id: "out", type: "helper" }], creds);
  const st = helper.getNode("st");
  await statusOf(st, (s) => s.fill === "green");
  const restarting = statusOf(st, (s) => /restarting/.test(s.text || ""));
  helper.getNode("hub").child().kill("SIGKILL");
  await restarting;
  await statusOf(st, (s) => s.fill === "green");
  const got = next(helper.getNode("out"));
  st.receive({});
  assert.equal((await got).payload.sessions_active, 1);
});

test("examples and shipped flows: importable, every hub node bound to a config in the file", () => {
  const files = fs.readdirSync(path.join(__dirname, "..", "examples"))
    .map((f) => path.join(__dirname, "..", "examples", f))
    .concat([path.join(__dirname, "..", "..", "flows", "flows.json")]);
  for (const file of files) {
    const flow = JSON.parse(fs.readFileSync(file, "utf8"));
    const ids = new Set(flow.map((n) => n.id));
    assert.equal(ids.size, flow.length, `${file}: duplicate node ids`);
    for (const n of flow) {
      if (n.type.startsWith("hub-") && n.type !== "hub-config") {
        assert.ok(ids.has(n.hub) && flow.find((c) => c.id === n.hub).type === "hub-config",
                  `${file}: ${n.id} has no hub config`);
      }
      for (const out of n.wires || []) for (const to of out) assert.ok(ids.has(to), `${file}: ${n.id} → ${to}`);
    }
  }
});
