//! Pointer gestures on the canvas: drag to move (previewed, then one edit on release), drag
//! from a port to link, shift-drag a box, drag the background to pan, drop a palette item.
//! A gesture lives in the editor (`Editor::gesture`), and window-wide pointer moves and
//! releases drive it, so a drag that leaves the stage keeps going.

use leptos::prelude::*;
use web_sys::PointerEvent;

use crate::canvas::camera::Camera;
use crate::canvas::geometry::{NODE_H, NOTE_H, NOTE_W};
use crate::panels::palette::Item;
use crate::state::doc::{Doc, Selection};
use crate::state::editor::{DragPreview, Editor};

/// A pointer gesture in progress.
#[derive(Clone, Debug, Default)]
pub enum Gesture {
    #[default]
    Idle,
    Pan {
        start: (f64, f64),
        camera: Camera,
        moved: bool,
    },
    Box {
        start: (f64, f64),
        base: Selection,
    },
    /// Moving the selection: where the pointer was pressed (world units), the document then,
    /// and what moves.
    Move {
        start: (f64, f64),
        before: serde_json::Value,
        selection: Selection,
    },
    Link {
        from: String,
    },
    /// An item dragged from the palette.
    Place {
        item: Item,
    },
}

/// The stage's top-left corner on the page, and its size.
pub fn stage_rect() -> Option<web_sys::DomRect> {
    document().get_element_by_id("graph").map(|e| e.get_bounding_client_rect())
}

/// The pointer in stage coordinates, and whether it is over the stage.
pub fn stage_point(e: &PointerEvent) -> ((f64, f64), bool) {
    let Some(r) = stage_rect() else { return ((0.0, 0.0), false) };
    let (x, y) = (f64::from(e.client_x()) - r.left(), f64::from(e.client_y()) - r.top());
    ((x, y), x >= 0.0 && y >= 0.0 && x <= r.width() && y <= r.height())
}

/// Shows a short message next to the pointer for a few seconds.
pub fn tip(ed: Editor, text: String, at: (f64, f64)) {
    ed.tip.set(Some((text.clone(), at.0, at.1)));
    gloo_timers::callback::Timeout::new(3_500, move || {
        if ed.tip.with_untracked(|t| t.as_ref().is_some_and(|t| t.0 == text)) {
            ed.tip.set(None);
        }
    })
    .forget();
}

pub fn toggle<T: Ord + Clone>(set: &mut std::collections::BTreeSet<T>, item: &T) {
    if !set.remove(item) {
        set.insert(item.clone());
    }
}

/// A press on a node or a note: `select` updates the selection (Shift held or not), and a
/// drag of everything selected begins.
pub fn grab(ed: Editor, e: &PointerEvent, select: impl FnOnce(&mut Selection, bool)) {
    if e.button() != 0 {
        return;
    }
    e.stop_propagation();
    let (p, _) = stage_point(e);
    let shift = e.shift_key();
    ed.selection.update(|s| select(s, shift));
    let selection = ed.selection.get_untracked();
    let start = ed.camera.get_untracked().to_world(p.0, p.1);
    ed.set_gesture(Gesture::Move { start, before: ed.doc.with_untracked(Doc::begin), selection });
}

/// Window-wide pointer moves and releases drive the gesture in progress.
pub fn track(ed: Editor, rubber: RwSignal<Option<(f64, f64)>>, marquee: RwSignal<Option<[f64; 4]>>) {
    let _ = window_event_listener(leptos::ev::pointermove, move |e| {
        let (p, _) = stage_point(&e);
        let cam = ed.camera.get_untracked();
        ed.gesture.update_value(|g| match g {
            Gesture::Pan { start, camera, moved } => {
                let (dx, dy) = (p.0 - start.0, p.1 - start.1);
                *moved |= dx.abs() + dy.abs() > 3.0;
                ed.view_moved();
                ed.camera.set(Camera { x: camera.x - dx / camera.k, y: camera.y - dy / camera.k, k: camera.k });
            }
            Gesture::Box { start, .. } => {
                marquee.set(Some([start.0.min(p.0), start.1.min(p.1), (p.0 - start.0).abs(), (p.1 - start.1).abs()]))
            }
            Gesture::Move { start, selection, .. } => {
                let w = cam.to_world(p.0, p.1);
                // Only the preview follows the pointer: the document (its checks, storage and
                // the run) changes once, on release. Alt moves freely, else onto the grid.
                let preview = DragPreview::new(ed, selection, w.0 - start.0, w.1 - start.1, !e.alt_key());
                ed.drag.set(Some(preview));
            }
            Gesture::Link { .. } => rubber.set(Some(cam.to_world(p.0, p.1))),
            Gesture::Place { .. } => ed.tip.set(None),
            Gesture::Idle => {}
        });
    });
    let _ = window_event_listener(leptos::ev::pointerup, move |e| {
        let gesture = ed.take_gesture();
        let (p, inside) = stage_point(&e);
        let cam = ed.camera.get_untracked();
        let w = cam.to_world(p.0, p.1);
        match gesture {
            // A click on the background: on a moving message, its journey opens in the trace.
            Gesture::Pan { moved: false, .. } => match crate::canvas::dots::pick(ed.live, p.0, p.1) {
                Some(root) => ed.live.send(&edasim_protocol::ClientMsg::Trace { msg: root }),
                None => ed.selection.set(Selection::default()),
            },
            Gesture::Box { start, base } => {
                marquee.set(None);
                let (a, b) = (cam.to_world(start.0, start.1), w);
                let (x0, y0, x1, y1) = (a.0.min(b.0), a.1.min(b.1), a.0.max(b.0), a.1.max(b.1));
                let inside_box = |x: f64, y: f64, wd: f64, ht: f64| x >= x0 && y >= y0 && x + wd <= x1 && y + ht <= y1;
                let mut sel = base;
                ed.graph.with_untracked(|g| {
                    for n in g.nodes.iter().filter(|n| inside_box(n.x, n.y, n.w, NODE_H)) {
                        sel.nodes.insert(n.id.clone());
                    }
                    for (i, _) in g.notes.iter().enumerate().filter(|(_, n)| inside_box(n.x, n.y, NOTE_W, NOTE_H)) {
                        sel.notes.insert(i);
                    }
                });
                ed.selection.set(sel);
            }
            Gesture::Move { before, selection, .. } => {
                let preview = ed.drag.get_untracked();
                ed.drag.set(None);
                if let Some(d) = preview {
                    ed.doc.update(|doc| {
                        doc.shift(&selection, &before, d.dx, d.dy, d.to_grid);
                        doc.commit(before);
                    });
                }
            }
            Gesture::Link { from } => {
                rubber.set(None);
                let target = ed.graph.with_untracked(|g| g.hit(w.0, w.1).map(|i| g.nodes[i].id.clone()));
                if let Some(to) = target {
                    match ed.link(&from, &to) {
                        Ok(role) => tip(ed, format!("{from} → {to}: {role}"), p),
                        Err(why) => tip(ed, format!("Not linked: {why}"), p),
                    }
                }
            }
            Gesture::Place { item } if inside => ed.place(item, w),
            _ => {}
        }
    });
}
