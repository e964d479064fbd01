// Video upscaling benchmark: a 640×480 clip (FFmpeg's testsrc2, FRAMES frames, H.264) → 2560×1920 H.264
// (crf 18) through `srgan video`'s pipeline, on 1 and 2 threads: frames/s of the whole pipeline, of the
// upscaling alone (frames already decoded, in memory) and of FFmpeg alone (decode, then encode of
// frames already upscaled), and FFmpeg's share of the pipeline's time. The repeat cache is off, so
// every frame is upscaled. Medians over ROUNDS rounds (tinybench, one run per task per round, one
// warm-up run in the first). Needs Debian's ffmpeg.
// Run: node --import tsx bench/video.bench.ts [--frames N] [--model NAME|FILE ...]
// Networks: natural-fast, plus every --model given (a built-in name or a .srnet/.rsr file): the hook
// for realesr-animevideov3 once the community importer writes it as a .srnet.
import { Bench } from "tinybench";
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { createUpscaler } from "../src/index.js";
import type { TimedFrame } from "../src/image/frame.js";
import { upscaleFrames } from "../src/video/frames.js";
import { findFfmpeg, probeVideo, readVideoFrames, writeVideo } from "../src/video/ffmpeg.js";
import { median } from "./common.js";

const arg = (name: string) => process.argv.flatMap((a, i) => (a === name ? [process.argv[i + 1]] : []));
const FRAMES = Number(arg("--frames")[0] ?? 12);
const MODELS = ["natural-fast", ...arg("--model")];
const THREADS = [1, 2];
const ROUNDS = 3;

async function main() {
  const tools = await findFfmpeg();
  const dir = mkdtempSync(join(tmpdir(), "srgan-video-bench-"));
  const input = join(dir, "in.mp4");
  execFileSync(tools.ffmpeg, ["-v", "error", "-y", "-f", "lavfi", "-i", `testsrc2=s=640x480:r=25`, "-frames:v", String(FRAMES), "-c:v", "libx264", "-pix_fmt", "yuv420p", input]);
  const info = await probeVideo(tools, input);
  const settings = { muxer: "mp4" as const, codec: "h264", alpha: false };
  const decoded: TimedFrame[] = [];
  for await (const f of readVideoFrames(tools, input, info)) decoded.push(f);

  const rows: Array<Record<string, unknown>> = [];
  for (const model of MODELS) {
    for (const threads of THREADS) {
      const up = await createUpscaler({ model, threads });
      let upscaled: TimedFrame[] = [];
      // Rounds of the three tasks in turn, so load from other processes on a shared machine hits them
      // alike; each figure is the median of the per-round times. "upscale only" runs before "ffmpeg
      // only" in every round: the latter encodes the frames the former made.
      const perRound = new Map<string, number[]>();
      for (let round = 0; round < ROUNDS; round++) {
        const bench = new Bench({ iterations: 1, warmupIterations: round === 0 ? 1 : 0, warmup: round === 0, time: 0, warmupTime: 0 });
        bench.add("pipeline", async () => {
          const frames = upscaleFrames(up, readVideoFrames(tools, input, info), { repeatCache: 0 });
          await writeVideo(tools, join(dir, "out.mp4"), frames, settings, { info, path: input });
        });
        bench.add("upscale only", async () => {
          upscaled = [];
          for await (const f of upscaleFrames(up, decoded, { repeatCache: 0 })) upscaled.push(f);
        });
        bench.add("ffmpeg only", async () => {
          async function* frames() { let i = 0; for await (const _ of readVideoFrames(tools, input, info)) yield upscaled[i++]; }
          await writeVideo(tools, join(dir, "ffmpeg-only.mp4"), frames(), settings, { info, path: input });
        });
        await bench.run();
        for (const t of bench.tasks) {
          if (t.result.state !== "completed") throw new Error(`${t.name}: ${t.result.state}`);
          perRound.set(t.name, [...(perRound.get(t.name) ?? []), t.result.latency.p50!]);
        }
      }
      const ms = Object.fromEntries([...perRound].map(([name, times]) => [name, median(times)]));
      const fps = (name: string) => FRAMES / (ms[name] / 1000);
      const row = {
        model, threads, frames: FRAMES, input: "640×480", output: "2560×1920",
        pipelineFps: +fps("pipeline").toFixed(3), upscaleOnlyFps: +fps("upscale only").toFixed(3), ffmpegOnlyFps: +fps("ffmpeg only").toFixed(3),
        ffmpegShare: +(ms["ffmpeg only"] / ms.pipeline).toFixed(3),
        msPerFrame: { pipeline: +(ms.pipeline / FRAMES).toFixed(1), upscaleOnly: +(ms["upscale only"] / FRAMES).toFixed(1), ffmpegOnly: +(ms["ffmpeg only"] / FRAMES).toFixed(1) },
      };
      rows.push(row);
      console.log(JSON.stringify(row));
      await up.dispose();
    }
  }
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(new URL("./results/", import.meta.url), { recursive: true });
  const machine = { cpu: cpus()[0]?.model, cores: cpus().length, node: process.version, ffmpeg: execFileSync(tools.ffmpeg, ["-version"], { encoding: "utf8" }).split("\n")[0] };
  writeFileSync(new URL("./results/video-latest.json", import.meta.url), JSON.stringify({ machine, date: new Date().toISOString(), rows }, null, 2) + "\n");
}

await main();
