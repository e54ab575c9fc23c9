//! The same host as the bench, as a binary the tests can start (the spawn model re-enters it).

fn main() -> std::process::ExitCode {
    threadfork::run_main(threadfork_examples::registry())
}
