//! A trainer's announcement (conversation list → "Обявление до клиенти"): one text, the
//! clients it goes to, and how far its copies have got. Each copy is an ordinary message
//! in that client's conversation, sent by the outbox (`chat::announcement`).

use leptos::prelude::*;
use wasm_bindgen::JsCast;

use crate::browser::new_uuid;
use crate::chat::announcement::{announcement_copies, AnnouncementError, Progress};
use crate::chat::delivery::Delivery;
use crate::chat::list::ConversationList as ListState;
use crate::chat::model::{DraftError, MAX_BODY_CHARS};
use crate::context::use_app;
use crate::i18n::{announcement_progress, draft_too_long, send_to, Text};
use crate::time::format_micros;

#[component]
pub fn Announcement(list: ListState) -> impl IntoView {
    let app = use_app();
    let delivery = use_context::<Delivery>();
    let open = RwSignal::new(false);
    // The text and the ticks live in the form itself, read when it is sent: one form,
    // redrawn rarely, costs less of the download than a signal per box.
    let form = NodeRef::<leptos::html::Form>::new();
    let chosen = RwSignal::new(0usize);
    let problem = RwSignal::new(None::<AnnouncementError>);
    // The copies of the last announcement sent from here, followed through the outbox.
    let copies = RwSignal::new(Vec::<String>::new());
    let progress = Memo::new(move |_| {
        copies.with(|ids| {
            (!ids.is_empty()).then(|| {
                delivery.map_or_else(Progress::default, |d| {
                    d.outbox.with(|outbox| Progress::of(ids, outbox))
                })
            })
        })
    });
    let boxes = move || {
        form.get_untracked()
            .map(|form| checkboxes(&form))
            .unwrap_or_default()
    };
    // Any box changed: count the ticks, and "all" is ticked when every client is.
    let count_chosen = move |_| {
        let boxes = boxes();
        let ticked = boxes.iter().filter(|b| b.checked()).count();
        chosen.set(ticked);
        let all = form
            .get_untracked()
            .and_then(|form| form.query_selector(".all-recipients").ok().flatten())
            .and_then(|all| all.dyn_into::<web_sys::HtmlInputElement>().ok());
        if let Some(all) = all {
            all.set_checked(ticked > 0 && ticked == boxes.len());
        }
    };
    let choose_everyone = move |ev: leptos::ev::Event| {
        let all = event_target_checked(&ev);
        for checkbox in boxes() {
            checkbox.set_checked(all);
        }
    };
    let send = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let (Some(me), Some(delivery), Some(form)) =
            (app.user_id(), delivery, form.get_untracked())
        else {
            return;
        };
        let text = form
            .elements()
            .named_item("text")
            .and_then(|t| t.dyn_into::<web_sys::HtmlTextAreaElement>().ok());
        let draft = text.as_ref().map(|t| t.value()).unwrap_or_default();
        let to: Vec<String> = checkboxes(&form)
            .iter()
            .filter(|b| b.checked())
            .map(|b| b.value())
            .collect();
        // Stamped by the server's clock, as a message from the composer is.
        let now = format_micros((app.server_now_ms() * 1000.0) as i64);
        match announcement_copies(&draft, &to, &me, &now, new_uuid) {
            Ok(made) => {
                copies.set(made.iter().map(|c| c.id.clone()).collect());
                for copy in made {
                    delivery.enqueue(copy);
                }
                form.reset();
                chosen.set(0);
                problem.set(None);
            }
            Err(error) => problem.set(Some(error)),
        }
    };
    let status = move || {
        let lang = app.lang.get();
        let error = problem.get().map(|problem| match problem {
            AnnouncementError::NoRecipients => Text::ChooseRecipients.get(lang).to_string(),
            AnnouncementError::Draft(DraftError::Empty) => Text::DraftEmpty.get(lang).to_string(),
            AnnouncementError::Draft(DraftError::TooLong { chars }) => {
                draft_too_long(lang, chars, MAX_BODY_CHARS)
            }
        });
        error.or_else(|| {
            progress
                .get()
                .map(|p| announcement_progress(lang, p.sent(), p.waiting, p.failed))
        })
    };
    // The person's clients, as the list names them (a trainer's conversations are all
    // with clients); redrawn whole when the list changes, ticks kept by the browser.
    let recipients = move || {
        list.summaries.with(|list| {
            list.iter()
                .flatten()
                .filter(|s| s.other_role == "client")
                .map(|s| {
                    view! {
                        <li><label class="recipient">
                            <input type="checkbox" value=s.conversation_id.clone() />
                            <span>{s.other_name.clone()}</span>
                        </label></li>
                    }
                })
                .collect_view()
        })
    };

    view! {
        <button class="announce-toggle" type="button" aria-expanded=move || open.get().to_string()
            on:click=move |_| open.update(|open| *open = !*open)>
            {app.tr(Text::Announce)}
        </button>
        {move || open.get().then(|| view! {
            <form class="announcement" aria-label=app.tr(Text::Announce) node_ref=form
                on:submit=send on:change=count_chosen>
                <label>
                    <span>{app.tr(Text::AnnouncementText)}</span>
                    <textarea name="text" class="announcement-text" rows="3"
                        maxlength=MAX_BODY_CHARS.to_string()></textarea>
                </label>
                <fieldset>
                    <legend>{app.tr(Text::Recipients)}</legend>
                    <label class="recipient">
                        <input class="all-recipients" type="checkbox" on:change=choose_everyone />
                        <span>{app.tr(Text::AllClients)}</span>
                    </label>
                    <ul class="recipients">{recipients}</ul>
                </fieldset>
                <p class="announcement-status" role="status" class:error=move || problem.with(Option::is_some)>
                    {status}
                </p>
                <button class="send-announcement" type="submit">
                    {move || send_to(app.lang.get(), chosen.get())}
                </button>
                <button type="button" class="close" on:click=move |_| open.set(false)>{app.tr(Text::Close)}</button>
            </form>
        })}
    }
}

/// The form's boxes for one client each.
fn checkboxes(form: &web_sys::HtmlFormElement) -> Vec<web_sys::HtmlInputElement> {
    let Ok(found) = form.query_selector_all(".recipients input") else {
        return Vec::new();
    };
    (0..found.length())
        .filter_map(|i| found.item(i))
        .filter_map(|node| node.dyn_into().ok())
        .collect()
}
