// Training: courses, taking an exam (an attempt scored on the server), the caller's certifications.
import { useState } from "preact/hooks";
import { api, ok } from "../api/client";
import type { components } from "../api/schema";
import { navigate } from "../router";
import { Loaded, ProblemBanner, Status, Title, date, dateTime, html, useForm, useLoad } from "../ui";

type Attempt = components["schemas"]["AttemptDto"];

export function TrainingHome() {
  const courses = useLoad(() => ok(api.GET("/courses")));
  const mine = useLoad(() => ok(api.GET("/people/me/certifications")));
  return html`<section><${Title}>Training<//>
    <h2>Your certifications</h2>
    <${Loaded} state=${mine}>${(m: components["schemas"]["MyCertificationsDto"]) => m.awards.length === 0 ? html`<p>No certification yet: pass the courses of a certification path.</p>` : html`
      <table><caption class="visually-hidden">Your certifications</caption><thead><tr><th scope="col">Certification</th><th scope="col">Number</th><th scope="col">Status</th><th scope="col">Expires</th></tr></thead>
      <tbody>${m.awards.map(a => html`<tr><td>${a.certificationName} (${a.level})</td><td>${a.number}</td><td><${Status} value=${a.status} /></td><td>${date(a.expiresAt)}</td></tr>`)}</tbody></table>`}<//>
    <h2>Courses</h2>
    <${Loaded} state=${courses}>${(c: components["schemas"]["ListResponseOfCourseDto"]) => c.items.length === 0 ? html`<p>No course is published yet.</p>` : html`
      <ul class="cards">${c.items.map(x => html`<li><a href=${"training/courses/" + x.id}>${x.title}</a><br /><small>${x.track} · ${x.modules.length} modules${x.exam ? ` · exam, pass at ${x.exam.passScore}%` : ""}</small></li>`)}</ul>`}<//>
  </section>`;
}

export function CourseDetail({ id }: { id: string }) {
  const course = useLoad(() => ok(api.GET("/courses/{courseId}", { params: { path: { courseId: id } } })), [id]);
  const form = useForm();
  const start = form.submit(async () => {
    const attempt = await ok(api.POST("/courses/{courseId}/attempts", { params: { path: { courseId: id }, header: { "Idempotency-Key": crypto.randomUUID() } } }));
    navigate("training/attempts/" + attempt.id);
  });
  return html`<${Loaded} state=${course}>${(c: components["schemas"]["CourseDto"]) => html`<section>
    <${Title}>${c.title}<//>
    ${c.description && html`<p>${c.description}</p>`}
    <ol>${c.modules.map(m => html`<li><strong>${m.title}</strong>${m.body ? html`<p>${m.body}</p>` : ""}${m.url ? html` <a href=${m.url} rel="noopener" target="_blank">Open</a>` : ""}${m.assetId ? html` <a href=${"assets/" + m.assetId}>Open the material</a>` : ""}</li>`)}</ol>
    ${c.exam && html`<p>Exam: ${c.exam.questionsPerAttempt} questions, ${c.exam.timeLimitMinutes} minutes, pass at ${c.exam.passScore}%, at most ${c.exam.maxAttempts} attempts in 30 days.</p>
      <${ProblemBanner} problem=${form.problem} />
      <button type="button" onClick=${start} disabled=${form.busy}>Take the exam</button>`}
  </section>`}<//>`;
}

export function AttemptScreen({ id }: { id: string }) {
  const attempt = useLoad(() => ok(api.GET("/attempts/{attemptId}", { params: { path: { attemptId: id } } })), [id]);
  const [answers, setAnswers] = useState<Record<string, string[]>>({});
  const form = useForm();
  const choose = (q: components["schemas"]["QuestionDto"], option: string, checked: boolean) =>
    setAnswers(a => ({ ...a, [q.id]: q.kind === "multiple" ? (checked ? [...(a[q.id] ?? []), option] : (a[q.id] ?? []).filter(o => o !== option)) : [option] }));
  const submit = form.submit(async () => {
    await ok(api.POST("/attempts/{attemptId}/submit", { params: { path: { attemptId: id } }, body: { answers: Object.entries(answers).map(([questionId, selected]) => ({ questionId, selected })) } }));
    attempt.reload();
  });
  return html`<${Loaded} state=${attempt}>${(a: Attempt) => a.submittedAt ? html`<section>
      <${Title}>Exam result<//>
      <p class=${a.passed ? "done" : "problem"} role="status">${a.passed ? "Passed" : "Not passed"}: ${a.score}% (${a.points} of ${a.maxPoints} points; ${a.passScore}% needed)${a.late ? ", submitted after the time limit" : ""}.</p>
      <p><a href="training">Back to training</a></p></section>` : html`<section>
      <${Title}>Exam<//>
      <p>Submit by <time datetime=${a.deadline}>${dateTime(a.deadline)}</time>. <${Status} value=${a.status} /></p>
      <form onSubmit=${submit}>
        <${ProblemBanner} problem=${form.problem} />
        ${a.questions.map((q, i) => html`<fieldset class="question"><legend>${i + 1}. ${q.text} <small>(${q.points} points${q.kind === "multiple" ? ", choose all that apply" : ""})</small></legend>
          ${q.options.map(o => html`<div class="choice"><input type=${q.kind === "multiple" ? "checkbox" : "radio"} name=${"q-" + q.id} id=${`q-${q.id}-${o.id}`} value=${o.id}
            checked=${(answers[q.id] ?? []).includes(o.id)} onChange=${(e: Event) => choose(q, o.id, (e.target as HTMLInputElement).checked)} />
            <label for=${`q-${q.id}-${o.id}`}>${o.text}</label></div>`)}
          ${(form.problem?.errors?.[`answers[${Object.keys(answers).indexOf(q.id)}].selected`] ?? []).map(m => html`<p class="error" role="alert">${m}</p>`)}
        </fieldset>`)}
        <button type="submit" disabled=${form.busy}>Submit answers</button>
      </form></section>`}<//>`;
}
