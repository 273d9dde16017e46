//! Progress bars on stderr for long work. They hide themselves when stderr is not a terminal
//! or when the caller asked for quiet (JSON) output, so scripts see clean streams.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

pub fn bar(total: u64, message: impl Into<String>, quiet: bool) -> ProgressBar {
    let bar = ProgressBar::new(total);
    if quiet {
        bar.set_draw_target(ProgressDrawTarget::hidden());
    }
    bar.set_style(
        ProgressStyle::with_template(
            "{msg:>28} [{bar:32}] {pos}/{len} {elapsed_precise} eta {eta}",
        )
        .expect("static progress template is valid")
        .progress_chars("=> "),
    );
    bar.set_message(message.into());
    bar
}
