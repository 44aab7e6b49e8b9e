// llama.cpp on the same GGUF file, measured like `chatglm bench`: ppN = one prefill of N random tokens into an
// empty sequence, tgN = N greedy tokens generated one at a time after a 1-token prompt. Prints one JSON line per
// test: {"engine":"llama.cpp","test":"pp512","n_prompt":512,"n_gen":0,"threads":2,"tokens_per_second":...}.
// Usage: node bench.mjs MODEL.gguf PROMPT_TOKENS GEN_TOKENS THREADS
import {getLlama, LlamaLogLevel} from "node-llama-cpp";

const [modelPath, pArg, nArg, tArg] = process.argv.slice(2);
if (!modelPath) {
    console.error("usage: node bench.mjs MODEL.gguf PROMPT_TOKENS GEN_TOKENS THREADS");
    process.exit(2);
}
const nPrompt = Number(pArg ?? 512);
const nGen = Number(nArg ?? 128);
const threads = Number(tArg ?? 2);

// Prebuilt CPU binaries only (AVX2 build selected at run time); never compile, never use a GPU.
const llama = await getLlama({gpu: false, build: "never", logLevel: LlamaLogLevel.error, maxThreads: threads});
const model = await llama.loadModel({modelPath, gpuLayers: 0, useMmap: true});
const context = await model.createContext({
    contextSize: Math.max(nPrompt, nGen) + 16,
    batchSize: Math.max(nPrompt, 1),
    threads: {ideal: threads, min: threads},
    sequences: 1,
});
const sequence = context.getSequence();

// Deterministic "random" ordinary tokens (no control tokens), like chatglm bench.
let state = 42;
function randomTokens(n) {
    const out = [];
    for (let i = 0; i < n; i++) {
        state = (state * 1103515245 + 12345) % 2147483648;
        out.push(3 + (state % 64786));
    }
    return out;
}

function report(test, p, g, seconds, tokens) {
    console.log(JSON.stringify({engine: "llama.cpp", test, n_prompt: p, n_gen: g, threads,
        tokens_per_second: Math.round(tokens / seconds * 100) / 100}));
}

// Warm-up: a short prefill and a few tokens, untimed (pages in the weights, settles the threads).
await sequence.evaluateWithoutGeneratingNewTokens(randomTokens(8));
await sequence.clearHistory();

if (nPrompt > 0) {
    const tokens = randomTokens(nPrompt);
    const t0 = process.hrtime.bigint();
    await sequence.evaluateWithoutGeneratingNewTokens(tokens);
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    report("pp" + nPrompt, nPrompt, 0, seconds, nPrompt);
    await sequence.clearHistory();
}
if (nGen > 0) {
    const t0 = process.hrtime.bigint();
    let generated = 0; // N yields = N forward passes (the 1-token prompt, then N-1 fed tokens), as chatglm bench
    for await (const token of sequence.evaluate(randomTokens(1), {temperature: 0})) {
        if (++generated >= nGen) {
            break;
        }
    }
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    report("tg" + nGen, 0, nGen, seconds, nGen);
}
await context.dispose();
await model.dispose();
await llama.dispose();
