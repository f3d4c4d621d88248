// The learning page: draws what the local server's API returns. No rule and no explanation is
// written here: they come from the teaching library (card_emulator.teaching) in both languages.
"use strict";

const page = {
  lang: "en",
  ui: {},
  state: null,
  changes: null,
  seeds: [],
  scenarios: [],
  scenario: null,
  step: 0,
  plan: null,
  lastEntry: null,
};

// ------------------------------------------------------------------------------------------
// Helpers
// ------------------------------------------------------------------------------------------

function t(key) {
  const text = page.ui[key];
  return text ? text[page.lang] : key;
}

function pick(bilingual) {
  if (bilingual === null || bilingual === undefined) return "";
  if (typeof bilingual === "string") return bilingual;
  return bilingual[page.lang] || bilingual.en || "";
}

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "class") node.className = value;
    else if (name === "text") node.textContent = value;
    else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function sourceLabel(source) {
  if (!source) return "";
  const parts = [];
  if (source.seeds && source.seeds.length) {
    const numbers = source.seeds.map((s) => s.number).join(", ");
    parts.push(page.lang === "ja" ? `資料${numbers}` : `seed ${numbers}`);
  }
  if (source.spec) parts.push(source.spec);
  if (source.assumption) parts.push(`${t("assumption")}: ${pick(source.assumption)}`);
  return parts.join("; ");
}

function cite(source) {
  const label = sourceLabel(source);
  if (!label) return null;
  const isAssumption = Boolean(source.assumption);
  return el("span", { class: isAssumption ? "cite assumed" : "cite" }, `[${label}]`);
}

function dots(remaining, max) {
  const box = el("span", { class: "dots", "aria-hidden": "true" });
  for (let i = 0; i < max; i += 1) {
    box.append(el("span", { class: i < remaining ? "dot on" : "dot off" }, i < remaining ? "●" : "○"));
  }
  return box;
}

async function api(path, body) {
  const options = body === undefined ? {} : {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  };
  document.body.setAttribute("aria-busy", "true");
  try {
    const response = await fetch(`/api/${path}`, options);
    const data = await response.json();
    if (!response.ok) throw new Error(data.error || response.statusText);
    return data;
  } finally {
    document.body.removeAttribute("aria-busy");
  }
}

function showError(error) {
  const box = document.getElementById("result");
  box.replaceChildren(el("p", { class: "bad" }, `${t("error")}: ${error.message}`));
}

// ------------------------------------------------------------------------------------------
// Drawing
// ------------------------------------------------------------------------------------------

function drawStatic() {
  document.documentElement.lang = page.lang;
  document.title = t("title");
  for (const node of document.querySelectorAll("[data-i18n]")) {
    node.textContent = t(node.dataset.i18n);
  }
  for (const button of document.querySelectorAll("[data-lang]")) {
    button.setAttribute("aria-pressed", String(button.dataset.lang === page.lang));
  }
}

function pinByKey(key) {
  return page.state.pins.find((pin) => pin.pin === key);
}

function drawPins() {
  const box = document.getElementById("pins");
  box.replaceChildren();
  for (const pin of page.state.pins) {
    const remaining = pin.remaining === null ? 0 : pin.remaining;
    const state = pin.locked ? "locked" : remaining < pin.max ? "warn" : "ok";
    const stateWord = pin.locked
      ? t("locked")
      : remaining < pin.max
        ? `${pin.max - remaining} ${t("some_wrong")}`
        : t("ok");
    const label = `${pick(pin.name)}: ${remaining} ${t("of")} ${pin.max} ${t("tries_left")}` +
      (pin.locked ? ` (${t("locked")})` : "");
    box.append(el("article", { class: `pin ${state}`, "aria-label": pick(pin.name) },
      el("h3", {}, pick(pin.name)),
      el("div", { class: "counter", role: "img", "aria-label": label },
        dots(remaining, pin.max),
        el("span", { class: "count" },
          el("span", { "data-testid": `tries-${pin.pin}`, "data-state": state, class: "number" },
            String(remaining)),
          ` / ${pin.max}`),
        el("span", { class: `state-word ${state}` }, stateWord)),
      el("p", { class: "small" }, el("strong", {}, `${t("used_for")}: `), pick(pin.purpose)),
      el("p", { class: "small" }, el("strong", {}, `${t("format")}: `), pick(pin.format), " ",
        cite({ seeds: [{ number: "004" }] })),
      el("button", {
        type: "button", class: "secondary", "data-testid": `lock-${pin.pin}`,
        disabled: pin.locked, onclick: () => act("lock", { pin: pin.pin }),
      }, t("lock_it"))));
  }
}

function drawDay() {
  const s = page.state;
  document.getElementById("today").textContent =
    page.lang === "ja" ? `${s.date}(${s.day}${t("day")})` : `${s.date} (${t("day")} ${s.day})`;
  const list = document.getElementById("services");
  list.replaceChildren();
  for (const service of s.services) {
    const pin = pinByKey(service.pin);
    list.append(el("li", { class: "service" },
      el("span", { class: "service-name" }, pick(service.name)),
      el("span", { class: "small" }, ` — ${t("asks_for")} ${pick(pin.name)} `, cite(service.source)),
      el("span", { class: "buttons" },
        el("button", {
          type: "button", "data-testid": `use-${service.key}-right`,
          onclick: () => act("use", { service: service.key, right: true }),
        }, `✓ ${t("right_pin")}`),
        el("button", {
          type: "button", class: "secondary", "data-testid": `use-${service.key}-wrong`,
          onclick: () => act("use", { service: service.key, right: false }),
        }, `✗ ${t("wrong_pin")}`))));
  }
  const choice = document.getElementById("pin-choice");
  const wizardPin = document.getElementById("wizard-pin");
  const chosen = wizardPin.value;
  wizardPin.replaceChildren();
  for (const pin of s.pins) {
    const option = choice.querySelector(`option[value="${pin.pin}"]`);
    if (option) option.textContent = pick(pin.name);
    wizardPin.append(el("option", { value: pin.pin }, pick(pin.name)));
  }
  if (chosen) wizardPin.value = chosen;
  const values = document.getElementById("practice-values");
  values.replaceChildren();
  for (const pin of s.pins) {
    values.append(el("dt", {}, pick(pin.name)), el("dd", { lang: "en" }, pin.practice_value || "-"));
  }
}

function drawTimeline() {
  const list = document.getElementById("timeline");
  list.replaceChildren();
  if (!page.state.timeline.length) {
    list.append(el("li", { class: "empty" }, t("timeline_empty")));
    return;
  }
  for (const entry of [...page.state.timeline].reverse()) {
    const pin = entry.pin ? pinByKey(entry.pin) : null;
    const head = [
      page.lang === "ja" ? `${entry.day}${t("day")}` : `${t("day")} ${entry.day}`,
      entry.service_name ? pick(entry.service_name) : "",
      pin ? pick(pin.name) : "",
    ].filter(Boolean).join(" · ");
    list.append(el("li", { class: entry.locked ? "locked" : "" },
      el("span", { class: "when" }, head),
      entry.remaining !== null && entry.remaining !== undefined
        ? el("span", { class: "after" }, dots(entry.remaining, entry.max),
          ` ${entry.remaining}/${entry.max}`, entry.locked ? ` ${t("locked")}` : "")
        : null,
      el("span", { class: "what" }, pick(entry.text), " ", cite(entry.source))));
  }
}

function drawResult(entry) {
  const box = document.getElementById("result");
  if (!entry) {
    box.replaceChildren();
    return;
  }
  const good = entry.ok;
  box.replaceChildren(el("p", { class: good ? "good" : "bad" },
    good ? "✓ " : "✗ ", pick(entry.text), " ", cite(entry.source)));
}

function drawPlan() {
  const box = document.getElementById("plan");
  const plan = page.plan;
  box.replaceChildren();
  if (!plan) return;
  box.append(el("p", {},
    el("strong", {}, `${t("rule_in_force")}: `),
    page.lang === "ja" ? `${plan.rule}年のルール ` : `${plan.rule} rule `, cite(plan.rule_source)));
  if (plan.refusals.length) {
    box.append(el("h3", { class: "bad" }, `✗ ${t("refused")}`),
      el("ul", {}, plan.refusals.map((r) => el("li", { "data-testid": `refusal-${r.code}` },
        pick(r.text), " ", cite(r.source)))));
  }
  box.append(el("p", { "data-testid": "plan-visits" },
    el("strong", {}, `${t("visits")}: `), String(plan.visits)));
  const steps = el("ol", { class: "steps" });
  for (const step of plan.steps) {
    const mark = step.visit === null ? t("meanwhile")
      : page.lang === "ja" ? `${step.visit}${t("visit_n")}` : `${t("visit_n")} ${step.visit}`;
    steps.append(el("li", {},
      el("p", {}, el("strong", {}, `${mark} — ${pick(step.where)}: `), pick(step.what), " ",
        cite(step.source)),
      step.brings.length
        ? el("div", {}, el("span", { class: "small" }, `${t("bring")}:`),
          el("ul", {}, step.brings.map((b) => el("li", {}, pick(b)))))
        : null));
  }
  box.append(steps);
  if (plan.notes.length) {
    box.append(el("h3", {}, t("notes")),
      el("ul", { class: "facts" }, plan.notes.map((n) => el("li", {}, pick(n), " ", cite(n.source)))));
  }
  box.append(el("details", {}, el("summary", {}, t("documents")),
    el("ul", { class: "facts" }, plan.documents.map((d) => el("li", {}, pick(d), " ", cite(d.source))))));
}

function drawChanges() {
  if (!page.changes) return;
  const table = document.getElementById("changes");
  const names = (keys) => keys.map((k) => pick(pinByKey(k).name)).join(page.lang === "ja" ? "、" : ", ");
  table.replaceChildren(
    el("thead", {}, el("tr", {}, el("th", { scope: "col" }, t("place")),
      el("th", { scope: "col" }, t("pins")), el("th", { scope: "col" }, t("needs")))),
    el("tbody", {}, page.changes.places.map((place) => el("tr", {},
      el("th", { scope: "row" }, pick(place.name)),
      el("td", {}, names(place.pins)),
      el("td", {}, pick(place.needs), " ", cite(place.source))))));
  const rules = document.getElementById("change-rules");
  rules.replaceChildren(...page.changes.rules.map((fact) => el("li", {}, pick(fact), " ", cite(fact.source))));
}

function drawScenarios() {
  const select = document.getElementById("scenario-choice");
  const chosen = select.value;
  select.replaceChildren(...page.scenarios.map((s) => el("option", { value: s.name },
    `${s.name.slice(0, 2)} ${pick(s.title)}`)));
  if (chosen) select.value = chosen;
  const box = document.getElementById("scenario");
  box.replaceChildren();
  const scenario = page.scenario;
  if (!scenario) return;
  const nav = el("div", { class: "actions" },
    el("button", {
      type: "button", "data-testid": "scenario-prev", disabled: page.step === 0,
      onclick: () => { page.step -= 1; drawScenarios(); },
    }, `← ${t("previous")}`),
    el("span", { class: "step-count", "aria-live": "polite" },
      `${t("step")} ${page.step + 1} / ${scenario.steps.length}`),
    el("button", {
      type: "button", "data-testid": "scenario-next",
      disabled: page.step >= scenario.steps.length - 1,
      onclick: () => { page.step += 1; drawScenarios(); },
    }, `${t("next")} →`));
  const steps = el("ol", { class: "timeline" });
  scenario.steps.slice(0, page.step + 1).forEach((s, index) => {
    steps.append(el("li", { class: index === page.step ? "current" : "" },
      el("span", { class: "when" }, `${s.at.replace("T", " ")} · ${pick(s.place)}`),
      el("span", { class: "what" }, pick(s.outcome), s.sw ? ` (${s.sw})` : ""),
      el("span", { class: "after" }, s.counters.map((c) => el("span", { class: "chip" },
        `${pick(pinByKey(c.pin).name).slice(0, page.lang === "ja" ? 6 : 20)} `, dots(c.remaining, c.max),
        ` ${c.remaining}/${c.max}`, c.locked ? ` ${t("locked")}` : "")))));
  });
  box.append(el("h3", {}, pick(scenario.title)), el("p", { class: "small" }, `${t("source")}: ${pick(scenario.source)}`),
    nav, steps);
}

function drawSeeds() {
  const list = document.getElementById("seeds");
  list.replaceChildren(...page.seeds.map((s) => el("li", {},
    el("strong", {}, `${t("seed")} ${s.number}`), ` — ${pick(s.author)}, ${s.updated} `,
    el("code", {}, s.file))));
}

function drawAll() {
  drawStatic();
  if (!page.state) return;
  drawPins();
  drawDay();
  drawTimeline();
  drawResult(page.lastEntry);
  drawPlan();
  drawChanges();
  drawScenarios();
  drawSeeds();
}

// ------------------------------------------------------------------------------------------
// Acting
// ------------------------------------------------------------------------------------------

async function act(path, body) {
  try {
    const data = await api(path, body);
    if (data.state) {
      page.state = data.state;
      page.lastEntry = data.entry || null;
    } else {
      page.state = data;
      page.lastEntry = page.state.timeline[page.state.timeline.length - 1] || null;
    }
    if (data.plan) page.plan = data.plan;
    drawAll();
  } catch (error) {
    showError(error);
  }
}

function wizardBody() {
  const form = document.getElementById("wizard");
  return {
    pin: document.getElementById("wizard-pin").value,
    applicant: form.elements.applicant.value,
    channel: form.elements.channel.value,
    year: Number(form.elements.year.value),
    other_known: form.elements.other_known.checked,
  };
}

async function showPlan() {
  try {
    page.plan = await api("plan", wizardBody());
    drawPlan();
  } catch (error) {
    showError(error);
  }
}

async function loadScenario() {
  const name = document.getElementById("scenario-choice").value;
  const box = document.getElementById("scenario");
  box.replaceChildren(el("p", {}, t("loading")));
  try {
    page.scenario = await api(`scenario/${encodeURIComponent(name)}`);
    page.step = 0;
    drawScenarios();
  } catch (error) {
    showError(error);
  }
}

function setLanguage(lang) {
  page.lang = lang;
  try { localStorage.setItem("mynacard-lang", lang); } catch (error) { /* private mode */ }
  drawAll();
}

async function start() {
  const strings = await api("strings");
  page.ui = strings.ui;
  let saved = null;
  try { saved = localStorage.getItem("mynacard-lang"); } catch (error) { /* private mode */ }
  const asked = new URLSearchParams(location.search).get("lang");
  page.lang = ["ja", "en"].includes(asked) ? asked : saved || strings.default;
  drawStatic();
  const [state, changes, seeds, scenarios] = await Promise.all(
    [api("state"), api("changes"), api("seeds"), api("scenarios")]);
  page.state = state;
  page.changes = changes;
  page.seeds = seeds;
  page.scenarios = scenarios;
  drawAll();
  document.body.dataset.ready = "true";
}

document.addEventListener("DOMContentLoaded", () => {
  for (const button of document.querySelectorAll("[data-lang]")) {
    button.addEventListener("click", () => setLanguage(button.dataset.lang));
  }
  document.getElementById("pad").addEventListener("submit", (event) => {
    event.preventDefault();
    const input = document.getElementById("pin-input");
    const value = input.value;
    input.value = "";
    act("enter", { pin: document.getElementById("pin-choice").value, value });
  });
  document.getElementById("next-day").addEventListener("click", () => act("advance", { days: 1 }));
  document.getElementById("next-week").addEventListener("click", () => act("advance", { days: 7 }));
  document.getElementById("restart").addEventListener("click", () => {
    page.plan = null;
    act("restart", {});
  });
  document.getElementById("wizard").addEventListener("submit", (event) => {
    event.preventDefault();
    showPlan();
  });
  document.getElementById("do-reset").addEventListener("click", () => act("reset", wizardBody()));
  document.getElementById("scenario-load").addEventListener("click", loadScenario);
  start().catch(showError);
});
