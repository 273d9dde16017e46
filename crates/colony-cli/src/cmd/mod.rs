//! One module per subcommand.

pub mod demo;
pub mod eval;
pub mod learned;
pub mod log;
pub mod serve;
pub mod sim;
pub mod train;
