// The live page of AgentTheater: plain JavaScript over the HTTP API (/api), no build step, nothing fetched from elsewhere.
"use strict";

const view = document.getElementById("view");
let leave = () => {};

window.addEventListener("hashchange", route);
window.addEventListener("DOMContentLoaded", route);

function route() {
  leave();
  leave = () => {};
  const parts = location.hash.replace(/^#\/?/, "").split("/").map(decodeURIComponent);
  if (parts[0] === "start") {
    leave = showStart();
  } else if (parts[0] === "runs" && parts.length >= 5 && parts[2] === "scenes") {
    leave = showScene(parts[1], parts[3], parts.slice(4).join("/"));
  } else if (parts[0] === "runs" && parts[1]) {
    leave = showRun(parts[1]);
  } else {
    leave = showRuns();
  }
}

// ---- helpers ----

function render(templateId) {
  view.replaceChildren(document.getElementById(templateId).content.cloneNode(true));
  return view;
}

function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (name === "class") node.className = value;
    else if (name === "text") node.textContent = value;
    else if (value !== undefined && value !== null) node.setAttribute(name, value);
  }
  node.append(...children.filter(c => c !== null && c !== undefined));
  return node;
}

async function api(path, options = {}) {
  let response = await fetch(path, options);
  if (response.status === 401 && askForKey()) {
    response = await fetch(path, options);
  }

  const type = response.headers.get("content-type") || "";
  const body = type.includes("json") ? await response.json() : null;
  if (!response.ok) {
    const error = new Error(body?.detail || body?.title || `${response.status} ${response.statusText}`);
    error.problem = body;
    error.status = response.status;
    throw error;
  }
  return body;
}

/**
 * The server asks for an API key (Http:ApiKeys): ask for it once and keep it in a same-site cookie, which fetch,
 * EventSource and the dashboard all send (EventSource cannot send a header).
 */
function askForKey() {
  const key = window.prompt("This theater asks for an API key (Http:ApiKeys):");
  if (!key) return false;
  document.cookie = `agent-theater-key=${encodeURIComponent(key.trim())}; path=/; SameSite=Strict`;
  return true;
}

function post(path, body) {
  return api(path, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body ?? {}) });
}

/** Runs fn now and every period ms until the returned stop function is called. */
function every(period, fn) {
  let stopped = false;
  let timer;
  const tick = async () => {
    try { await fn(); } catch (e) { console.warn(e); }
    if (!stopped) timer = setTimeout(tick, period);
  };
  tick();
  return () => { stopped = true; clearTimeout(timer); };
}

/** A speaker's colour: a hue from a hash of their id, the same on every page. */
function colour(id) {
  let hash = 0;
  for (const c of id || "") hash = (hash * 31 + c.charCodeAt(0)) >>> 0;
  return `hsl(${hash % 360}, 55%, 38%)`;
}

function sceneHref(runId, sceneId, replica) {
  return `#/runs/${encodeURIComponent(runId)}/scenes/${encodeURIComponent(sceneId)}/${encodeURIComponent(replica)}`;
}

function progressBar(run) {
  const bar = el("span", { class: "bar", title: `${run.completed} completed, ${run.failed} failed of ${run.scenes}` });
  const done = el("span", { style: `width:${(100 * run.completed / Math.max(run.scenes, 1)).toFixed(1)}%` });
  const failed = el("span", { class: "failed", style: `width:${(100 * run.failed / Math.max(run.scenes, 1)).toFixed(1)}%;float:left` });
  bar.append(done, failed);
  done.style.float = "left";
  return bar;
}

function runBadges(run) {
  const badges = [];
  if (run.paused) badges.push(el("span", { class: "badge paused", text: "paused" }));
  if (run.stopped) badges.push(el("span", { class: "badge stopped", text: "stopped" }));
  if (run.done) badges.push(el("span", { class: "badge", text: "done" }));
  return badges;
}

// ---- runs ----

function showRuns() {
  render("runs-template");
  const body = view.querySelector("tbody");
  return every(1000, async () => {
    const runs = await api("/api/runs");
    body.replaceChildren(...runs.slice().reverse().map(run => el("tr", { "data-testid": "run-row", "data-run": run.runId },
      el("td", {}, el("a", { href: `#/runs/${encodeURIComponent(run.runId)}`, text: run.runId })),
      el("td", { text: run.scenario }),
      el("td", { text: `${run.completed + run.failed}/${run.scenes}` }),
      el("td", {}, progressBar(run), ...runBadges(run)),
      el("td", { text: run.lines.toLocaleString() }),
      el("td", { text: run.tokens.toLocaleString() }),
      el("td", {}, run.done ? null : controlButtons(run.runId)))));
    if (runs.length === 0) body.append(el("tr", {}, el("td", { colspan: 7, class: "hint", text: "No runs yet." })));
  });
}

function controlButtons(runId) {
  const span = el("span");
  for (const action of ["pause", "resume", "stop"]) {
    const button = el("button", { text: action });
    button.addEventListener("click", () => post(`/api/runs/${encodeURIComponent(runId)}/${action}`).catch(e => alert(e.message)));
    span.append(button, " ");
  }
  return span;
}

// ---- start ----

function showStart() {
  render("start-template");
  const form = view.querySelector("form");
  const yaml = form.elements.yaml;
  const errors = view.querySelector(".errors");
  form.elements.file.addEventListener("change", async () => {
    const file = form.elements.file.files[0];
    if (file) yaml.value = await file.text();
  });
  form.addEventListener("submit", async event => {
    event.preventDefault();
    errors.hidden = true;
    const replicas = form.elements.replicas.value;
    const query = replicas ? `?replicas=${encodeURIComponent(replicas)}` : "";
    try {
      const started = await api(`/api/runs${query}`, { method: "POST", headers: { "Content-Type": "application/yaml" }, body: yaml.value });
      location.hash = `#/runs/${encodeURIComponent(started.runId)}`;
    } catch (e) {
      showScenarioErrors(errors, yaml.value, e);
    }
  });
  return () => {};
}

/** Every error of the scenario, listed and marked at its line in a numbered listing of the text sent. */
function showScenarioErrors(section, text, error) {
  section.hidden = false;
  const list = error.problem?.errors ?? [];
  section.querySelector("h2").textContent = error.problem?.title ?? error.message;
  section.querySelector(".error-list").replaceChildren(...(list.length
    ? list.map(e => el("li", { "data-testid": "scenario-error", "data-line": e.line, text: `line ${e.line}, column ${e.column}: ${e.field ? e.field + ": " : ""}${e.message}` }))
    : [el("li", { "data-testid": "scenario-error", text: error.message })]));
  const byLine = new Map();
  for (const e of list) byLine.set(e.line, [...(byLine.get(e.line) ?? []), e]);
  section.querySelector(".listing").replaceChildren(...text.split("\n").map((line, i) => {
    const here = byLine.get(i + 1);
    const row = el("span", { class: here ? "ln error" : "ln", "data-n": i + 1 }, line || " ");
    if (here) row.append(el("span", { class: "msg", text: here.map(e => `${e.field ? e.field + ": " : ""}${e.message}`).join("; ") }));
    return row;
  }));
}

// ---- one run ----

function showRun(runId) {
  render("run-template");
  view.querySelector(".run-id").textContent = runId;
  view.querySelector(".controls").addEventListener("click", event => {
    const action = event.target.dataset.action;
    if (action) post(`/api/runs/${encodeURIComponent(runId)}/${action}`).catch(e => alert(e.message));
  });
  const body = view.querySelector("tbody");
  const line = view.querySelector(".run-line");
  const summary = view.querySelector(".summary");
  let stop;
  stop = every(1000, async () => {
    const [run, scenes] = await Promise.all([api(`/api/runs/${encodeURIComponent(runId)}`), api(`/api/runs/${encodeURIComponent(runId)}/scenes`)]);
    line.replaceChildren(`${run.scenario}: ${run.completed + run.failed}/${run.scenes} scenes ended, ${run.lines.toLocaleString()} lines, ${run.tokens.toLocaleString()} tokens `, progressBar(run), ...runBadges(run));
    body.replaceChildren(...scenes.map(s => el("tr", { "data-testid": "scene-row" },
      el("td", {}, el("a", { href: sceneHref(runId, s.sceneId, s.replica), text: s.sceneId })),
      el("td", { text: s.replica }),
      el("td", { text: s.status.paused ? "paused" : s.status.phase }),
      el("td", { text: s.status.turns }),
      el("td", { text: s.status.lines }),
      el("td", { text: s.status.tokens }),
      el("td", { text: s.status.endReason ?? "" }))));
    if (run.summary) {
      summary.hidden = false;
      summary.textContent = JSON.stringify(run.summary, null, 2);
      stop();
    }
  });
  return () => stop();
}

// ---- one scene ----

function showScene(runId, sceneId, replica) {
  render("scene-template");
  const base = `/api/runs/${encodeURIComponent(runId)}/scenes/${encodeURIComponent(sceneId)}/${encodeURIComponent(replica)}`;
  view.querySelector(".run-link").href = `#/runs/${encodeURIComponent(runId)}`;
  view.querySelector(".run-link").textContent = runId;
  view.querySelector(".scene-name").textContent = `${sceneId} / ${replica}`;
  view.querySelector(".scene-title").textContent = `${sceneId}, replica ${replica}`;
  const transcript = view.querySelector(".transcript");
  const status = view.querySelector(".status");
  const state = { cast: [], byLine: new Map(), posteriors: new Map(), maxTurns: 1, turns: 0 };
  let source = null;
  let stopStatus = () => {};

  const refresh = async () => {
    const scene = await api(base);
    state.cast = scene.cast;
    state.maxTurns = scene.maxTurns;
    view.querySelector(".setting").textContent = scene.setting;
    status.textContent = scene.status.paused ? `paused at turn ${scene.status.turns}` : `${scene.status.phase}: ${scene.status.turns} turns${scene.status.endReason ? " (" + scene.status.endReason + ")" : ""}`;
    status.dataset.phase = scene.status.phase;
    showLineage(scene);
    return scene;
  };

  refresh().then(scene => {
    showCast(state.cast);
    const to = view.querySelector("select[name=to]");
    for (const c of state.cast) to.append(el("option", { value: c.id, text: `whisper to ${c.name}` }));
    drawCharts(state);
    source = new EventSource(`${base}/events`);
    source.addEventListener("line", e => addLine(JSON.parse(e.data)));
    source.addEventListener("attribution", e => addVerdict(JSON.parse(e.data)));
    source.addEventListener("takeover", e => addMarker(JSON.parse(e.data), "takeover"));
    source.addEventListener("recovery", e => addMarker(JSON.parse(e.data), "recovery"));
    source.addEventListener("end", () => { source.close(); refresh(); });
    stopStatus = every(2000, async () => { const s = await refresh(); if (s.status.phase !== "playing") stopStatus(); });
  }).catch(e => { status.textContent = e.message; });

  function addLine(line) {
    if (state.byLine.has(line.index)) return;
    const speaker = el("span", { class: "speaker", text: line.speaker });
    const item = el("li", { class: `${line.kind} new`, "data-testid": "line", "data-index": line.index, "data-kind": line.kind, "data-to": line.to ?? "" });
    if (line.speakerId) {
      speaker.style.color = colour(line.speakerId);
      item.style.borderLeftColor = colour(line.speakerId);
    }
    const to = line.to ? state.cast.find(c => c.id === line.to)?.name ?? line.to : null;
    if (to) item.append(el("span", { class: "whisper", "data-testid": "whisper", text: `whispered to ${to}` }));
    item.append(speaker, el("span", { class: "text", text: line.text || "(says nothing)" }));
    state.turns = Math.max(state.turns, line.turn + 1);
    state.byLine.set(line.index, item);
    transcript.append(item);
    item.scrollIntoView({ block: "nearest" });
  }

  function addVerdict(attribution) {
    const item = state.byLine.get(attribution.index);
    if (item && !item.querySelector(".verdict")) {
      item.append(el("span", {
        class: `verdict ${attribution.verdict}`,
        title: (attribution.scores ?? []).map(s => `${s.id}: ${s.posterior.toFixed(3)}`).join("\n"),
        text: `${attribution.verdict} · assigned ${attribution.assignedPosterior.toFixed(2)}`,
      }));
    }
    const points = state.posteriors.get(attribution.characterId) ?? [];
    if (!points.some(p => p.index === attribution.index) && attribution.verdict !== "failed") {
      points.push({ index: attribution.index, turn: attribution.turn, posterior: attribution.assignedPosterior, verdict: attribution.verdict });
      state.posteriors.set(attribution.characterId, points);
      drawCharts(state);
    }
  }

  function addMarker(takeover, kind) {
    const at = kind === "takeover" ? takeover.detectedLineIndex : takeover.recoveredLineIndex;
    const text = kind === "takeover"
      ? `⚠ ${takeover.character} taken over by ${takeover.takenOverBy} from turn ${takeover.turn}${takeover.trigger ? ` (trigger: line ${takeover.trigger.lineIndex}, ${takeover.trigger.speaker})` : ""}`
      : `✓ ${takeover.character} back in role at turn ${takeover.recoveredTurn}`;
    const marker = el("li", { class: `marker ${kind}`, "data-testid": kind, text });
    const after = state.byLine.get(at);
    if (after) after.after(marker); else transcript.append(marker);
  }

  function showCast(cast) {
    view.querySelector(".cast").replaceChildren(...cast.map(c => {
      const item = el("li", { "data-testid": "cast-member", "data-id": c.id, title: "Show what this character has witnessed" },
        el("span", { class: "chip", style: `background:${colour(c.id)}` }), el("strong", { text: c.name }), ` ${c.role}`);
      item.addEventListener("click", () => showContext(c));
      return item;
    }));
  }

  async function showContext(character) {
    const section = view.querySelector(".context");
    const context = await api(`${base}/characters/${encodeURIComponent(character.id)}`);
    section.hidden = false;
    section.querySelector(".who").textContent = character.name;
    const carried = context.carried.lines.filter(l => l.speaker !== "Narrator" || !/^\((Earlier|Now):/.test(l.text)).length;
    section.querySelector(".played").textContent = context.played.length === 0
      ? "Its first scene in this story."
      : `Played before: ${context.played.map(k => k.split("/").slice(1).join(" ")).join(", ")}; brought ${context.carried.summary ? "a summary" : `${carried} lines`} into this scene.`;
    section.querySelector(".prompt").textContent = context.prompt;
  }

  function showLineage(scene) {
    const lineage = view.querySelector(".lineage");
    const parts = [];
    if (scene.lineage.origin) {
      const parent = scene.lineage.origin.parentKey.split("/");
      parts.push(el("p", {}, "Branch of ", el("a", { href: sceneHref(parent[0], parent[1], parent.slice(2).join("/")), text: scene.lineage.origin.parentKey }),
        ` from turn ${scene.lineage.origin.atTurn}`));
    }
    if (scene.lineage.forks.length === 0) {
      parts.push(el("p", { class: "hint", text: scene.status.phase === "playing" ? "Fork it when it has ended." : "No forks yet." }));
    }
    if (scene.lineage.continuations?.length) {
      parts.push(el("p", {}, "Its branch's story goes on in: ", ...scene.lineage.continuations.map(key => {
        const k = key.split("/");
        return el("a", { href: sceneHref(k[0], k[1], k.slice(2).join("/")), "data-testid": "continuation-link", text: `${k[1]} (${k.slice(2).join("/")}) ` });
      })));
    }
    for (const fork of scene.lineage.forks) {
      parts.push(el("p", { text: `Fork ${fork.fork} at turn ${fork.atTurn} (${fork.sharedLines} lines shared):` }),
        el("ul", {}, ...fork.branchKeys.map(key => {
          const k = key.split("/");
          return el("li", {}, el("a", { href: sceneHref(k[0], k[1], k.slice(2).join("/")), "data-testid": "branch-link", text: k.slice(2).join("/") }));
        })));
    }
    lineage.replaceChildren(...parts);
    view.querySelector(".fork button").disabled = scene.status.phase === "playing";
  }

  view.querySelector(".intervene").addEventListener("submit", async event => {
    event.preventDefault();
    const form = event.target;
    const result = form.querySelector(".intervene-result");
    try {
      const sent = await post(`${base}/interventions`, { speaker: form.elements.speaker.value, text: form.elements.text.value, to: form.elements.to.value || null });
      result.textContent = `queued before turn ${sent.turn}`;
      form.elements.text.value = "";
    } catch (e) {
      result.textContent = e.message;
    }
  });

  view.querySelector(".fork").addEventListener("submit", async event => {
    event.preventDefault();
    const form = event.target;
    const result = form.querySelector(".fork-result");
    try {
      const atTurn = form.elements.atTurn.value === "" ? null : Number(form.elements.atTurn.value);
      const fork = await post(`${base}/forks`, { branches: Number(form.elements.branches.value), atTurn });
      result.textContent = `${fork.branchKeys.length} branches from turn ${fork.atTurn}`;
      await refresh();
    } catch (e) {
      result.textContent = e.message;
    }
  });

  return () => { source?.close(); stopStatus(); };
}

/**
 * One small chart per character: its assigned role's posterior at each of its lines, by turn (the axis spans the turns
 * played so far, at least ten); taken-over lines in red, the dashed line at 0.5.
 */
function drawCharts(state) {
  const charts = view.querySelector(".charts");
  if (!charts) return;
  const width = 260, height = 56, pad = 4;
  const turns = Math.min(Math.max(state.turns, 10), Math.max(state.maxTurns, 1));
  charts.replaceChildren(...state.cast.map(c => {
    const points = (state.posteriors.get(c.id) ?? []).slice().sort((a, b) => a.index - b.index);
    const x = t => pad + (width - 2 * pad) * t / Math.max(turns - 1, 1);
    const y = p => height - pad - (height - 2 * pad) * p;
    const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
    svg.setAttribute("width", width);
    svg.setAttribute("height", height);
    svg.setAttribute("role", "img");
    svg.setAttribute("aria-label", `${c.name}: assigned role posterior by turn`);
    const ns = (tag, attributes) => {
      const node = document.createElementNS("http://www.w3.org/2000/svg", tag);
      for (const [k, v] of Object.entries(attributes)) node.setAttribute(k, v);
      svg.append(node);
      return node;
    };
    ns("line", { x1: pad, x2: width - pad, y1: y(0.5), y2: y(0.5), stroke: "#e4e1d8", "stroke-dasharray": "3 3" });
    if (points.length > 1) {
      ns("polyline", { points: points.map(p => `${x(p.turn)},${y(p.posterior)}`).join(" "), fill: "none", stroke: colour(c.id), "stroke-width": 1.5 });
    }
    for (const p of points) {
      ns("circle", { cx: x(p.turn), cy: y(p.posterior), r: 2.5, fill: p.verdict === "taken-over" ? "#b3261e" : colour(c.id) }).append(
        Object.assign(document.createElementNS("http://www.w3.org/2000/svg", "title"), { textContent: `turn ${p.turn}: ${p.posterior.toFixed(3)} (${p.verdict})` }));
    }
    return el("div", { class: "chart", "data-testid": "chart", "data-character": c.id, "data-points": points.length },
      el("div", { class: "name", text: `${c.name} (${points.length} lines)` }), svg);
  }));
}
