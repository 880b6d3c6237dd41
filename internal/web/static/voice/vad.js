// Silero voice activity detection in the browser, with @ricky0123/vad-web's
// MicVAD running on onnxruntime-web's WebAssembly build. Both are fetched by
// scripts/assets.sh into os1's cache and served at /voice/assets/ (never a
// CDN). vad-web's bundle is a classic script that defines window.vad; it is
// loaded with a <script src> element from this server, which the page's CSP
// (script-src 'self' 'wasm-unsafe-eval') allows.

export const ASSETS = '/voice/assets/';
const BUNDLE = `${ASSETS}vad-web/bundle.min.js`;
const LOAD_TIMEOUT = 20000;

/** The VAD's files are not on the server: scripts/assets.sh voice was never run. */
export class VadMissing extends Error {
  constructor() {
    super('voice assets missing: run `make run` or `scripts/assets.sh voice` on the server to detect speech in the browser');
    this.name = 'VadMissing';
  }
}

/**
 * startVAD runs Silero VAD on stream inside audioContext and calls the
 * hooks as the user speaks:
 *   onSpeechStart – the first frame that sounds like speech
 *   onSpeechEnd   – speech stopped (after a short pause)
 *   onMisfire     – what started was too short to be speech (speech ended, too)
 * It resolves to { destroy() } once the model is loaded and listening, and
 * rejects with VadMissing when the assets are not there.
 */
export async function startVAD({ audioContext, stream, onSpeechStart, onSpeechEnd, onMisfire }) {
  let probe;
  try {
    probe = await fetch(BUNDLE, { method: 'HEAD', credentials: 'same-origin' });
  } catch (e) {
    throw new Error(`cannot reach ${BUNDLE}: ${e.message}`);
  }
  if (probe.status === 404) throw new VadMissing();
  if (!probe.ok) throw new Error(`${BUNDLE} answered HTTP ${probe.status}`);
  await loadScript(BUNDLE);
  const lib = window.vad;
  if (!lib || !lib.MicVAD) throw new Error('the VAD bundle did not define MicVAD');
  let late = false;
  const starting = lib.MicVAD.new({
    model: 'legacy', // vad-web 0.0.31's default: silero_vad_legacy.onnx, 96 ms frames
    baseAssetPath: `${ASSETS}vad-web/`,
    onnxWASMBasePath: `${ASSETS}onnxruntime-web/`,
    audioContext,
    getStream: async () => stream,
    // The call owns the microphone: the VAD must not stop or reopen it.
    pauseStream: async () => {},
    resumeStream: async () => stream,
    // The server adds its own end-of-turn grace (600 ms, longer mid-sentence),
    // so the VAD only has to bridge the gaps between words.
    redemptionMs: 480,
    minSpeechMs: 200, // shorter speech is a misfire: speech_end follows at once
    preSpeechPadMs: 100,
    ortConfig: (ort) => {
      ort.env.logLevel = 'error';
      // Threads need a cross-origin-isolated page (SharedArrayBuffer); one
      // thread runs this small model in well under a frame.
      ort.env.wasm.numThreads = 1;
    },
    onSpeechStart: () => onSpeechStart && onSpeechStart(),
    onSpeechEnd: () => onSpeechEnd && onSpeechEnd(),
    onVADMisfire: () => onMisfire && onMisfire(),
    startOnLoad: true,
  });
  // A VAD that finishes loading after we gave up must not keep listening.
  starting.then((m) => { if (late) m.destroy(); }, () => {});
  let mic;
  try {
    mic = await withTimeout(starting, LOAD_TIMEOUT, 'loading the voice activity detector took too long');
  } catch (e) {
    late = true;
    throw e;
  }
  return {
    destroy: async () => { try { await mic.destroy(); } catch { /* already gone */ } },
  };
}

function loadScript(src) {
  if (window.vad) return Promise.resolve();
  return withTimeout(new Promise((resolve, reject) => {
    const s = document.createElement('script');
    s.src = src;
    s.async = true;
    s.onload = () => resolve();
    s.onerror = () => { s.remove(); reject(new Error(`cannot load ${src}`)); };
    document.head.append(s);
  }), LOAD_TIMEOUT, `loading ${src} took too long`);
}

function withTimeout(p, ms, message) {
  let timer;
  return Promise.race([
    p,
    new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(message)), ms); }),
  ]).finally(() => clearTimeout(timer));
}
