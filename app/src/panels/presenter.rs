//! Presenter mode, for a projector: the canvas the full width of the screen, and beneath it
//! the walkthrough's step in large type (at least 28 px) beside the charts of the step's nodes
//! only. Palette, inspector and dock fold away while it lasts; Escape (or the button) leaves.

use leptos::prelude::*;

use crate::state::connection::Live;
use crate::state::editor::Editor;
use crate::state::lesson::Lesson;

#[component]
pub fn PresenterStrip() -> impl IntoView {
    let lesson = expect_context::<Lesson>();
    let live = expect_context::<Live>();
    let ed = expect_context::<Editor>();
    let content = move || {
        if !ed.presenting.get() {
            return None;
        }
        let step = lesson.shown()?;
        let k = lesson.step.get();
        let total = lesson.current.with(|w| w.as_ref().map_or(0, |w| w.steps.len()));
        // The step's nodes (links named `from->to` chart their source), at most three.
        let mut nodes: Vec<String> = Vec::new();
        for h in &step.highlight {
            let id = h.split_once("->").map_or(h.as_str(), |(a, _)| a).to_string();
            if !nodes.contains(&id) && nodes.len() < 3 {
                nodes.push(id);
            }
        }
        let charts = nodes
            .into_iter()
            .enumerate()
            .map(|(n, id)| crate::dock::charts::step_chart(live, ed, n, id))
            .collect_view();
        let question = step.prediction.as_ref().map(|p| {
            let chosen = move || lesson.chosen.with(|c| c.get(k).copied().flatten());
            let answer = p.answer;
            let choices = p
                .choices
                .iter()
                .enumerate()
                .map(|(i, c)| {
                    view! {
                        <button class="choice" aria-pressed=move || (chosen() == Some(i)).to_string()
                            class:right=move || lesson.reached(k) && i == answer on:click=move |_| lesson.choose(i)>{c.clone()}</button>
                    }
                })
                .collect_view();
            view! { <p class="question">{p.question.clone()}</p><div class="choices">{choices}</div> }
        });
        Some(view! {
            <section class="presenter" id="presenter" aria-label="Presenter">
                <div class="step">
                    <nav>
                        <span class="progress">{format!("Step {} of {total}", k + 1)}</span>
                        <button on:click=move |_| lesson.back() prop:disabled={k == 0}>"‹ Back"</button>
                        <button on:click=move |_| lesson.next() prop:disabled={k + 1 >= total}>"Next ›"</button>
                        <button id="present-leave" title="Escape" on:click=move |_| lesson.present(false, ed)>"Leave"</button>
                    </nav>
                    <h2 id="presenter-step">{step.title.clone()}</h2>
                    <div class="text">{crate::panels::markdown::render(&step.text)}</div>
                    {question}
                </div>
                <div class="step-charts">{charts}</div>
            </section>
        })
    };
    view! { {content} }
}
