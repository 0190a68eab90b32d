import { escapeHtml as e } from "./Display.ts"
import type { ConditionProgress, CurrentItem, RaterProgress, StudyRow } from "./Rows.ts"
import { type StatementSet, checkboxes, sliders } from "./Statements.ts"

// Plain server-rendered HTML with plain forms: works without JavaScript, on any phone, and every value a page
// shows goes through escapeHtml.
const css = `
*{box-sizing:border-box}body{margin:0;font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1d232a;background:#f4f5f7}
main{max-width:760px;margin:0 auto;padding:16px}
.card{background:#fff;border-radius:10px;padding:16px 18px;margin:12px 0;box-shadow:0 1px 3px rgba(0,0,0,.08)}
h1{font-size:1.35rem;margin:.2rem 0 .6rem}h2{font-size:1.05rem;margin:.2rem 0 .5rem}
.turn{margin:.35rem 0;padding:.45rem .7rem;border-radius:8px;overflow-wrap:anywhere;white-space:pre-wrap}
.speaker{background:#eef2f7}.listener{background:#f6f1e7}
.response{background:#fff7d6;border:2px solid #e0b400}
.who{font-weight:600;margin-right:.35rem}
.statement{margin:1.1rem 0}.statement label{display:block;font-weight:500}
input[type=range]{width:100%;height:2.2rem;margin:.3rem 0 0}
.anchors{display:flex;justify-content:space-between;gap:4px;font-size:.78rem;color:#5b6470}
.anchors span{flex:1;text-align:center}.anchors span:first-child{text-align:left}.anchors span:last-child{text-align:right}
.check{display:flex;gap:.6rem;align-items:flex-start;margin:1.1rem 0;font-weight:500}
.check input{width:1.4rem;height:1.4rem;flex:none;margin-top:.1rem}
button{font:inherit;font-weight:600;background:#1f5fbf;color:#fff;border:0;border-radius:8px;padding:.75rem 1.4rem;min-height:48px;width:100%;cursor:pointer}
@media (min-width:600px){button{width:auto}}
.progress{display:flex;align-items:center;gap:.7rem;font-size:.9rem;color:#5b6470}
progress{flex:1;height:10px}
.code{font:700 1.6rem ui-monospace,monospace;letter-spacing:.12em;background:#eef2f7;padding:.5rem .8rem;border-radius:8px;display:inline-block}
table{border-collapse:collapse;width:100%;font-size:.9rem}td,th{text-align:left;padding:.3rem .5rem;border-bottom:1px solid #e3e6ea}
.muted{color:#5b6470;font-size:.9rem}
`

export const page = (title: string, body: string): string =>
  `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">` +
  `<title>${e(title)}</title><style>${css}</style></head><body><main>${body}</main></body></html>`

export const messagePage = (title: string, text: string): string =>
  page(title, `<div class="card"><h1>${e(title)}</h1><p>${e(text)}</p></div>`)

const dialogue = (chat: CurrentItem["chat"], response: string) =>
  chat.map((t) => {
    const speaker = t.role === "user"
    return `<div class="turn ${speaker ? "speaker" : "listener"}"><span class="who">${speaker ? "Speaker:" : "Listener:"}</span>${e(t.content)}</div>`
  }).join("") +
  `<div class="turn listener response" data-testid="response"><span class="who">Listener (Response):</span>${e(response)}</div>`

const questions = (set: StatementSet, values?: Readonly<Record<string, number>>) => {
  const anchors = `<div class="anchors" aria-hidden="true">${set.scale.anchors.map((a) => `<span>${e(a)}</span>`).join("")}</div>`
  const disabled = values === undefined ? "" : " disabled"
  return sliders(set).map((s) =>
    `<div class="statement"><label for="${e(s.key)}">${e(s.text)}</label>` +
    `<input type="range" id="${e(s.key)}" name="${e(s.key)}" min="${set.scale.min}" max="${set.scale.max}" step="1" ` +
    `value="${values?.[s.key] ?? set.scale.start}"${disabled}>${anchors}</div>`
  ).join("") + checkboxes(set).map((s) =>
    `<label class="check"><input type="checkbox" id="${e(s.key)}" name="${e(s.key)}" value="1"${values?.[s.key] === 1 ? " checked" : ""}${disabled}>` +
    `<span>${e(s.text)}</span></label>`
  ).join("")
}

export const introPage = (study: StudyRow): string =>
  page(study.title, `<div class="card"><h1>${e(study.title)}</h1>
<p>You will read ${study.design.itemsPerRater + study.design.attentionChecks} short conversations between a <b>Speaker</b>, who tells about a
situation and how they felt, and a <b>Listener</b>. For each one, judge the Listener’s last reply (highlighted) by moving
each slider and ticking the box when it applies. There are no right or wrong answers: we want your own impression.</p>
<p>Your answers are stored anonymously with your participant id and used for research only. You may stop at any time;
reopening your link continues where you left off.</p>
<form method="get" action="example"><button type="submit">I agree, continue</button></form></div>`)

const exampleChat = [
  { role: "user" as const, content: "I finally passed my driving test today after failing it twice!" },
  { role: "assistant" as const, content: "No way, congratulations! How did it go this time?" },
  { role: "user" as const, content: "I was so nervous, but I stayed calm and it went really smoothly." }
]

export const examplePage = (study: StudyRow): string => {
  const solved = Object.fromEntries(study.statements.statements.map((s, k) => [s.key, s.kind === "checkbox" ? 1 : [88, 80, 85, 75][k % 4]!]))
  return page(study.title, `<div class="card"><h1>A solved example</h1>
<p class="muted">This reply fits the situation, picks up the Speaker’s relief and pride, and sounds natural, so it gets high values.
In the study the sliders start in the middle; move each one to where you agree.</p>
${dialogue(exampleChat, "That’s wonderful, all that practice paid off. You must be so relieved and proud of yourself!")}
${questions(study.statements, solved)}
<form method="post" action="start"><button type="submit">Start the study</button></form></div>`)
}

export const itemPage = (study: StudyRow, item: CurrentItem): string =>
  page(`${study.title}: ${item.rated + 1} of ${item.total}`, `<div class="progress"><span data-testid="progress">Item ${item.rated + 1} of ${item.total}</span>` +
    `<progress max="${item.total}" value="${item.rated}"></progress></div>
<div class="card"><h2>The conversation</h2>${dialogue(item.chat, item.response)}</div>
<form class="card" method="post" action="item">
<input type="hidden" name="assignment" value="${item.bundle}.${item.position}">
${questions(study.statements)}
<button type="submit">Next</button></form>`)

export const donePage = (study: StudyRow): string =>
  page(study.title, `<div class="card"><h1>Thank you!</h1><p>You have rated every item. Your completion code is</p>
<p><span class="code" data-testid="completion-code">${e(study.completionCode)}</span></p>
${study.redirectUrl === null ? "" : `<p><a href="${e(study.redirectUrl)}" data-testid="redirect">Return to Prolific</a></p>`}</div>`)

export const adminPage = (study: StudyRow, conditions: ReadonlyArray<ConditionProgress>, raters: ReadonlyArray<RaterProgress>): string =>
  page(`${study.title}: progress`, `<div class="card"><h1>${e(study.title)} <span class="muted">(${e(study.id)})</span></h1>
<h2>By condition</h2><table><tr><th>condition</th><th>rated</th><th>planned</th></tr>
${conditions.map((c) => `<tr><td>${e(c.condition)}</td><td>${c.rated}</td><td>${c.expected}</td></tr>`).join("")}</table></div>
<div class="card"><h2>By rater</h2><table><tr><th>rater</th><th>bundle</th><th>rated</th><th>done</th><th>attention failed</th></tr>
${raters.map((r) => `<tr><td>${e(r.externalId)}</td><td>${r.bundle ?? "–"}</td><td>${r.rated}/${r.total}</td><td>${r.completed ? "yes" : "no"}</td><td>${r.attentionFailed}</td></tr>`).join("")}
</table></div>`)
