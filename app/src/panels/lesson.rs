//! The walkthrough panel: the step's title and text, Back and Next (PageUp and PageDown, as a
//! presenter's clicker sends), progress, the prediction's choices, and once the run reaches the
//! step's end, the answer with the run's own numbers.

use leptos::prelude::*;

use crate::state::connection::Live;
use crate::state::lesson::Lesson;

#[component]
pub fn LessonPanel() -> impl IntoView {
    let lesson = expect_context::<Lesson>();
    let live = expect_context::<Live>();
    let ed = expect_context::<crate::state::editor::Editor>();
    // A step that compares two nodes selects the first and draws the second over its charts.
    Effect::new(move |_| {
        if let Some([a, b]) = lesson.shown().and_then(|s| s.compare) {
            ed.selection.set(crate::state::doc::Selection::node(&a));
            ed.compare.set(Some(b));
        }
    });
    let content = move || {
        let title = lesson.current.with(|w| w.as_ref().map(|w| (w.title.clone(), w.steps.len())))?;
        let k = lesson.step.get();
        let step = lesson.shown()?;
        let prediction = step.prediction.clone().map(|p| {
            let chosen = move || lesson.chosen.with(|c| c.get(k).copied().flatten());
            let reached = move || lesson.reached(k);
            let choices = p
                .choices
                .iter()
                .enumerate()
                .map(|(i, c)| {
                    let right = i == p.answer;
                    view! {
                        <button class="choice" id=format!("choice-{i}") aria-pressed=move || (chosen() == Some(i)).to_string()
                            class:right=move || reached() && right class:wrong=move || reached() && chosen() == Some(i) && !right
                            on:click=move |_| lesson.choose(i)>{c.clone()}</button>
                    }
                })
                .collect_view();
            let explain = p.explain.clone();
            let labels: Vec<String> = p.show.iter().map(|s| s.label.clone()).collect();
            let exprs: Vec<String> = p.show.iter().map(|s| s.expr.clone()).collect();
            let numbers = move || {
                live.values.with(|v| {
                    let (_, values) = v.as_ref()?;
                    let rows: Vec<(String, String)> = exprs
                        .iter()
                        .zip(&labels)
                        .filter_map(|(e, l)| {
                            let v = values.iter().find(|v| &v.expr == e)?;
                            let shown = match (v.value, &v.error) {
                                (Some(x), _) => format_number(x),
                                (None, Some(why)) => why.clone(),
                                _ => String::new(),
                            };
                            Some((l.clone(), shown))
                        })
                        .collect();
                    (!rows.is_empty()).then(|| {
                        rows.into_iter()
                            .map(|(l, v)| view! { <li><span>{l}</span>": "<strong>{v}</strong></li> })
                            .collect_view()
                    })
                })
            };
            view! {
                <div class="prediction" id="prediction">
                    <p class="question">{p.question.clone()}</p>
                    <div class="choices">{choices}</div>
                    <Show when=reached fallback=move || view! {
                        <p class="hint">{move || if chosen().is_some() { "Locked in: press Play (or wait) to see." } else { "Choose, then watch." }}</p>
                    }>
                        <div class="answer" id="answer">
                            <p class="verdict">{move || match chosen() {
                                Some(c) if c == p.answer => "Right.",
                                Some(_) => "Not quite.",
                                None => "The answer:",
                            }}</p>
                            <p>{explain.clone()}</p>
                            <ul class="numbers" id="answer-numbers">{numbers.clone()}</ul>
                        </div>
                    </Show>
                </div>
            }
        });
        let (total, last) = (title.1, k + 1 == title.1);
        Some(view! {
            <section class="lesson" id="lesson" aria-label="Walkthrough">
                <header>
                    <span class="lesson-title">{title.0}</span>
                    <button id="present" title="Presenter mode: the canvas full width, the step in large type beneath it (Escape leaves)"
                        on:click=move |_| lesson.present(true, ed)>"Present"</button>
                    <button class="close" aria-label="Close the walkthrough" on:click=move |_| lesson.close(ed)>"×"</button>
                </header>
                <p class="progress" id="lesson-progress">{format!("Step {} of {total}", k + 1)}</p>
                <h2 id="lesson-step">{step.title.clone()}</h2>
                <div class="text">{crate::panels::markdown::render(&step.text)}</div>
                {prediction}
                <nav class="lesson-nav">
                    <button id="lesson-back" prop:disabled={k == 0} on:click=move |_| lesson.back()>"‹ Back"</button>
                    <button id="lesson-next" prop:disabled=last on:click=move |_| lesson.next()>"Next ›"</button>
                </nav>
            </section>
        })
    };
    view! { {content} }
}

fn format_number(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e12 {
        format!("{x}")
    } else if x.abs() >= 100.0 {
        format!("{x:.0}")
    } else {
        format!("{x:.2}")
    }
}
