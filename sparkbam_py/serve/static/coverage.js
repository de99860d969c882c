// sparkbam coverage view: pan (drag, arrows) and zoom (wheel, +/-) over binned means from
// /api/coverage, plus-strand tracks up and minus-strand tracks down; the reads of small
// windows from /api/reads.  No third-party code.
"use strict";

const PALETTE = ["#0072b2", "#d55e00", "#009e73", "#cc79a7", "#e69f00", "#56b4e9", "#f0e442", "#000000"];
const READS_MAX_WINDOW = 20000;
const READS_LIMIT = 2000;
const AXIS = 18;
const view = { contig: null, length: 0, start: 0, end: 0, tracks: [], strands: {}, bams: [], request: 0 };
window.sparkbamFetches = [];  // every URL fetched, for tests and curious users

const $ = (id) => document.getElementById(id);

async function getJson(url) {
  window.sparkbamFetches.push(url);
  const response = await fetch(url);
  const body = await response.json();
  if (!response.ok) throw new Error(body.error || response.statusText);
  return body;
}

function clampView(start, end) {
  let width = Math.max(10, Math.min(Math.round(end - start), view.length));
  start = Math.max(0, Math.min(Math.round(start), view.length - width));
  return [start, start + width];
}

function setRange(start, end) {
  [view.start, view.end] = clampView(start, end);
  $("locus").value = `${view.contig}:${view.start + 1}-${view.end}`;
  return draw();
}

async function draw() {
  const request = ++view.request;
  const canvas = $("coverage");
  const bins = Math.min(canvas.width, view.end - view.start);
  const url = `/api/coverage/${encodeURIComponent(view.contig)}?start=${view.start}&end=${view.end}&bins=${bins}`;
  $("status").textContent = "loading…";
  try {
    const data = await getJson(url);
    if (request !== view.request) return;  // a newer view was asked for meanwhile
    drawCoverage(canvas, data, bins);
    document.body.dataset.shown = `${data.contig}:${data.start}-${data.end}`;
    await drawReads(request);
    $("status").textContent = "";
  } catch (error) {
    $("status").textContent = `error: ${error.message}`;
  }
}

function drawCoverage(canvas, data, bins) {
  const ctx = canvas.getContext("2d");
  const plot = canvas.height - AXIS;
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  const names = Object.keys(data.tracks);
  const hasMinus = names.some((name) => view.strands[name] === "-");
  const baseline = hasMinus ? Math.floor(plot / 2) : plot - 1;
  let top = 0;
  for (const name of names) top = Math.max(top, ...data.tracks[name]);
  const scale = top > 0 ? top : 1;
  const step = canvas.width / bins;
  names.forEach((name, index) => {
    const direction = view.strands[name] === "-" ? 1 : -1;
    ctx.fillStyle = PALETTE[view.tracks.indexOf(name) % PALETTE.length];
    ctx.globalAlpha = 0.55;
    data.tracks[name].forEach((value, bin) => {
      const h = (value / scale) * baseline;
      ctx.fillRect(bin * step, direction < 0 ? baseline - h : baseline, Math.max(step, 1), h);
    });
  });
  ctx.globalAlpha = 1;
  ctx.strokeStyle = "#444";
  ctx.beginPath(); ctx.moveTo(0, baseline + 0.5); ctx.lineTo(canvas.width, baseline + 0.5); ctx.stroke();
  drawAxis(ctx, canvas.width, plot);
  ctx.fillStyle = "#444";
  ctx.fillText(`max ${top.toFixed(1)}`, 4, 12);
}

function niceStep(span, target) {
  const raw = Math.max(span / target, 1);
  const magnitude = Math.pow(10, Math.floor(Math.log10(raw)));
  for (const factor of [1, 2, 5, 10]) if (factor * magnitude >= raw) return factor * magnitude;
  return 10 * magnitude;
}

function drawAxis(ctx, width, top) {
  ctx.strokeStyle = "#444"; ctx.fillStyle = "#444";
  ctx.beginPath(); ctx.moveTo(0, top + 0.5); ctx.lineTo(width, top + 0.5); ctx.stroke();
  const span = view.end - view.start;
  const step = niceStep(span, Math.max(1, Math.floor(width / 110)));
  for (let position = Math.ceil(view.start / step) * step; position < view.end; position += step) {
    const x = ((position - view.start) / span) * width;
    ctx.beginPath(); ctx.moveTo(x + 0.5, top); ctx.lineTo(x + 0.5, top + 4); ctx.stroke();
    ctx.fillText(position.toLocaleString("en"), x + 2, top + 15);
  }
}

async function drawReads(request) {
  const canvas = $("reads");
  const ctx = canvas.getContext("2d");
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  ctx.fillStyle = "#666";
  if (!view.bams.length) { ctx.fillText("no BAM served", 4, 14); return; }
  if (view.end - view.start > READS_MAX_WINDOW) {
    ctx.fillText(`zoom in below ${READS_MAX_WINDOW.toLocaleString("en")} bases to see reads`, 4, 14);
    return;
  }
  const url = `/api/reads/${encodeURIComponent(view.contig)}?start=${view.start}&end=${view.end}&limit=${READS_LIMIT}`;
  const data = await getJson(url);
  if (request !== view.request) return;
  const rowEnds = [];
  const scale = canvas.width / (view.end - view.start);
  for (const read of data.reads) {
    let row = rowEnds.findIndex((end) => end < read.reference_start);
    if (row < 0) { row = rowEnds.length; rowEnds.push(0); }
    rowEnds[row] = read.reference_end + 2;
    const y = row * 6;
    if (y + 5 > canvas.height) continue;
    ctx.fillStyle = read.flag & 16 ? PALETTE[1] : PALETTE[0];
    ctx.fillRect((read.reference_start - view.start) * scale, y, Math.max(1, (read.reference_end - read.reference_start) * scale), 5);
  }
  if (data.truncated) {
    ctx.fillStyle = "#a00";
    ctx.fillText(`first ${data.reads.length} reads only: zoom in for all`, canvas.width - 230, canvas.height - 4);
  }
  document.body.dataset.reads = String(data.reads.length);
}

function parseLocus(text) {
  const match = /^(.*):([0-9,]+)-([0-9,]+)$/.exec(text.trim());
  if (!match) return null;
  return [match[1], Number(match[2].replace(/,/g, "")) - 1, Number(match[3].replace(/,/g, ""))];
}

function selectContig(name, start, end) {
  const contig = view.contigs.find((c) => c.name === name);
  if (!contig) { $("status").textContent = `unknown contig ${name}`; return; }
  view.contig = contig.name; view.length = contig.length;
  $("contig").value = contig.name;
  return setRange(start ?? 0, end ?? Math.min(contig.length, 100000));
}

function pan(fraction) {
  const shift = (view.end - view.start) * fraction;
  return setRange(view.start + shift, view.end + shift);
}

function zoom(factor, anchor = 0.5) {
  const width = (view.end - view.start) * factor;
  const centre = view.start + (view.end - view.start) * anchor;
  return setRange(centre - width * anchor, centre + width * (1 - anchor));
}

function wireControls() {
  $("contig").addEventListener("change", (event) => selectContig(event.target.value));
  $("go").addEventListener("click", () => {
    const parsed = parseLocus($("locus").value);
    if (parsed) selectContig(parsed[0], parsed[1], parsed[2]);
  });
  $("left").addEventListener("click", () => pan(-0.5));
  $("right").addEventListener("click", () => pan(0.5));
  $("zoomin").addEventListener("click", () => zoom(0.5));
  $("zoomout").addEventListener("click", () => zoom(2));
  const canvas = $("coverage");
  let dragFrom = null;
  canvas.addEventListener("mousedown", (event) => { dragFrom = event.offsetX; });
  window.addEventListener("mouseup", (event) => {
    if (dragFrom === null) return;
    const moved = (dragFrom - event.offsetX) / canvas.width;
    dragFrom = null;
    if (Math.abs(moved) > 0.002) pan(moved);
  });
  canvas.addEventListener("wheel", (event) => {
    event.preventDefault();
    zoom(event.deltaY > 0 ? 1.25 : 0.8, event.offsetX / canvas.width);
  }, { passive: false });
}

function drawLegend() {
  $("legend").innerHTML = "";
  view.tracks.forEach((name, index) => {
    const item = document.createElement("span");
    item.style.color = PALETTE[index % PALETTE.length];
    item.textContent = `■ ${name}${view.strands[name] === "-" ? " (down)" : ""}`;
    $("legend").appendChild(item);
  });
}

async function start() {
  const info = await getJson("/api/contigs");
  Object.assign(view, { contigs: info.contigs, tracks: info.tracks, strands: info.strands, bams: info.bams });
  for (const contig of info.contigs) {
    const option = document.createElement("option");
    option.value = option.textContent = contig.name;
    $("contig").appendChild(option);
  }
  drawLegend();
  wireControls();
  const first = info.contigs.find((c) => c.length > 0);
  if (first) await selectContig(first.name);
}

start().catch((error) => { $("status").textContent = `error: ${error.message}`; });
