#!/usr/bin/env bash
# `make run`: the hub's engine and Node-RED side by side (docs/node-red.md).
#
# The engine runs in the foreground of this script's job; Node-RED beside it. Node-RED
# stopping (or never starting: NODE_RED=0, or Node-RED not installed) leaves the engine
# and its EMS running: the flows are extras, never the safety. Ctrl-C stops both.
set -uo pipefail
cd "$(dirname "$0")/.."
CONFIG="${1:-${HUB_CONFIG:-}}"
PY=.venv/bin/python
settings=$($PY - "$CONFIG" <<'PY'
import sys
from hub_engine.bus.server import endpoints
from hub_engine.config import load_config
config = load_config(sys.argv[1] or None)
plc = config.simulation.plc_port if config.simulation is not None else 0
print(config.hub.data_dir, *endpoints(config), plc or "", sep="\n")
PY
) || exit 2
{ read -r data_dir; read -r bus_pub; read -r bus_router; read -r sim_plc; } <<< "$settings"
# The flows' PLC is the demo's simulated one where the configuration serves it (its port
# moves with simulation.plc_port), unless PLC_PORT says otherwise.
if [[ -n "$sim_plc" && -z "${PLC_PORT:-}" ]]; then export PLC_PORT="$sim_plc"; fi
mkdir -p "$data_dir"
token_file="$data_dir/node-red.token"
if [[ ! -s "$token_file" ]]; then  # an operator token for the flows, tied to this database
  .venv/bin/hub admin create-token node-red --role operator --out "$token_file" \
    ${CONFIG:+--config "$CONFIG"} || exit 2
fi

pids=()
stop() { trap - INT TERM EXIT; kill "${pids[@]}" 2>/dev/null; wait; }
trap stop INT TERM EXIT

# The flows' MQTT tab needs a broker: a private one when Debian's mosquitto is here, the
# flows point at this machine (MQTT_HOST unset or local) and none listens yet, with the
# demo and with any configuration alike.
mqtt_host="${MQTT_HOST:-127.0.0.1}"
if [[ "${NODE_RED:-1}" != 0 && ( "$mqtt_host" == 127.0.0.1 || "$mqtt_host" == localhost ) ]] \
   && command -v mosquitto >/dev/null \
   && ! (exec 3<>/dev/tcp/127.0.0.1/"${MQTT_PORT:-1883}") 2>/dev/null; then
  printf 'listener %s 127.0.0.1\nallow_anonymous true\n' "${MQTT_PORT:-1883}" > "$data_dir/mosquitto.conf"
  mosquitto -c "$data_dir/mosquitto.conf" 2>/dev/null &
  pids+=("$!")
  echo "[charge-hub] MQTT broker on 127.0.0.1:${MQTT_PORT:-1883}: mosquitto_sub -t 'chargehub/#' -v" >&2
fi
.venv/bin/hub run ${CONFIG:+--config "$CONFIG"} &
engine=$!
pids+=("$engine")
if [[ "${NODE_RED:-1}" != 0 && -x node_modules/.bin/node-red ]]; then
  # The engine's endpoints as it binds them (its configuration may move them).
  HUB_DATA_DIR="$data_dir" HUB_BUS_TOKEN_FILE="$token_file" \
    HUB_BUS_PUB_ENDPOINT="$bus_pub" HUB_BUS_ROUTER_ENDPOINT="$bus_router" \
    node_modules/.bin/node node_modules/node-red/red.js --settings settings.js &
  pids+=("$!")
  echo "[charge-hub] Node-RED editor on http://${NODE_RED_HOST:-127.0.0.1}:${NODE_RED_PORT:-1880}" >&2
fi
wait "$engine"
