//! `cargo bench` runs threadfork over this crate's workloads (`-- run --quick`, `-- list`).

fn main() -> std::process::ExitCode {
    threadfork::run_main(threadfork_examples::registry())
}
