// SPDX-License-Identifier: MIT
// The few Prometheus metric kinds `srgan serve` needs (counter, histogram; gauges are read when
// scraped), written in the text exposition format 0.0.4. Small enough not to need a client library.

export type Labels = Record<string, string | number>;

const labelText = (labels: Labels) => {
  const parts = Object.entries(labels).map(([k, v]) => `${k}="${String(v).replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n")}"`);
  return parts.length ? `{${parts.join(",")}}` : "";
};

const header = (name: string, help: string, type: string) => `# HELP ${name} ${help}\n# TYPE ${name} ${type}\n`;

export class Counter {
  private readonly values = new Map<string, number>();
  constructor(readonly name: string, private readonly help: string) {}
  inc(labels: Labels, by = 1): void {
    const key = labelText(labels);
    this.values.set(key, (this.values.get(key) ?? 0) + by);
  }
  text(): string {
    return header(this.name, this.help, "counter") + [...this.values].map(([l, v]) => `${this.name}${l} ${v}\n`).join("");
  }
}

export class Histogram {
  private readonly series = new Map<string, { labels: Labels; counts: number[]; sum: number; count: number }>();
  constructor(readonly name: string, private readonly help: string, private readonly buckets: number[]) {}
  observe(labels: Labels, value: number): void {
    const key = labelText(labels);
    let s = this.series.get(key);
    if (!s) this.series.set(key, s = { labels, counts: this.buckets.map(() => 0), sum: 0, count: 0 });
    this.buckets.forEach((le, i) => { if (value <= le) s.counts[i]++; });
    s.sum += value;
    s.count++;
  }
  text(): string {
    let out = header(this.name, this.help, "histogram");
    for (const s of this.series.values()) {
      this.buckets.forEach((le, i) => { out += `${this.name}_bucket${labelText({ ...s.labels, le })} ${s.counts[i]}\n`; });
      out += `${this.name}_bucket${labelText({ ...s.labels, le: "+Inf" })} ${s.count}\n`;
      out += `${this.name}_sum${labelText(s.labels)} ${s.sum}\n${this.name}_count${labelText(s.labels)} ${s.count}\n`;
    }
    return out;
  }
}

/** A gauge whose samples are computed when scraped. */
export function gauge(name: string, help: string, samples: [Labels, number][]): string {
  return header(name, help, "gauge") + samples.map(([l, v]) => `${name}${labelText(l)} ${v}\n`).join("");
}
