//! The web app's entry point, in the page and in its Web Workers alike (one module serves
//! both): report panics to the console, then serve the engine's requests in a worker, or
//! mount the app in a page.

fn main() {
    console_error_panic_hook::set_once();
    if meridian::worker::is_worker() {
        meridian::worker::serve();
    } else {
        leptos::mount::mount_to_body(meridian::ui::App);
    }
}
