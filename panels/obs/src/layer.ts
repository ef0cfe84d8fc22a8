// The matte layer as a page, for OBS builds with a Browser Source (official builds): draws a live
// session's mattes (straight-alpha RGBA from WS /v1/live "watch") on a transparent canvas.
// URL: http://127.0.0.1:7470/obs/layer.html?session=<id>#watch=<the session's watchKey> (see
// fragment.ts): a credential that lets this page watch that one session and nothing else.
import { LIVE_PATH, LIVE_PROTOCOL, LIVE_WATCH_PROTOCOL_PREFIX, LiveServerMessageSchema, type LiveServerMessage } from '../../../src/shared/api.js';
import { checkAnswer } from '../../../src/shared/engine-client.js';
import { decodeLiveFrame, type LiveFrame } from '../../../src/shared/live-frame.js';
import { fragmentParam } from './fragment.js';
import { messageOf } from '../../../src/shared/error-message.js';

const canvas = document.getElementById('matte') as HTMLCanvasElement;
const ctx = canvas.getContext('2d')!;
const sessionId = Number(new URLSearchParams(location.search).get('session'));
const watchKey = fragmentParam('watch') ?? '';

let latest: LiveFrame | undefined;
let scheduled = false;

/** Draws only the newest matte, once per display frame. */
function draw(): void {
  scheduled = false;
  const frame = latest;
  latest = undefined;
  if (!frame) return;
  if (canvas.width !== frame.width || canvas.height !== frame.height) {
    canvas.width = frame.width;
    canvas.height = frame.height;
  }
  const pixels = new Uint8ClampedArray(frame.payload.buffer as ArrayBuffer, frame.payload.byteOffset, frame.payload.byteLength);
  ctx.putImageData(new ImageData(pixels, frame.width, frame.height), 0, 0);
}

function connect(): void {
  const ws = new WebSocket(`ws://${location.host}${LIVE_PATH}`, [LIVE_PROTOCOL, LIVE_WATCH_PROTOCOL_PREFIX + watchKey]);
  ws.binaryType = 'arraybuffer';
  ws.onopen = () => ws.send(JSON.stringify({ type: 'watch', sessionId }));
  ws.onmessage = (ev: MessageEvent<ArrayBuffer | string>) => {
    if (typeof ev.data === 'string') {
      let msg: LiveServerMessage;
      try {
        msg = checkAnswer(LiveServerMessageSchema, JSON.parse(ev.data), 'a live message');
      } catch (err) {
        console.error(`CleanPlate: ${messageOf(err)}`);
        return;
      }
      if (msg.type === 'closed') ctx.clearRect(0, 0, canvas.width, canvas.height);
      if (msg.type === 'error') console.error(`CleanPlate: ${msg.code}: ${msg.message}`);
      document.body.dataset.state = msg.type;
      return;
    }
    const frame = decodeLiveFrame(new Uint8Array(ev.data));
    if (typeof frame === 'string' || frame.format !== 'rgba') return;
    latest = frame;
    if (!scheduled) {
      scheduled = true;
      requestAnimationFrame(draw);
    }
  };
  // Engine restarts end the connection: show nothing, try again.
  ws.onclose = () => {
    ctx.clearRect(0, 0, canvas.width, canvas.height);
    setTimeout(connect, 1000);
  };
}

if (Number.isInteger(sessionId) && sessionId > 0) connect();
else console.error('CleanPlate: layer.html needs ?session=<live session id>');
