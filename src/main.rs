fn main() {
    console_error_panic_hook_free();
    leptos::mount::mount_to_body(coach_chat::App);
}

/// Panics abort in release (`panic = "abort"`); nothing to install.
fn console_error_panic_hook_free() {}
