//! The workloads' own flags (`--work`, `--hold`, …): each declared by a workload's parameter
//! ([`crate::Param::flag`]), added to `run` and `ab` when the command line is read, and handed
//! to the options as (flag, text) pairs. The options know parameters, never a workload's flag.

use clap::{Arg, ArgAction, ArgMatches, CommandFactory, FromArgMatches};

use crate::api::{Registry, Size};
use crate::options::{Cli, Command};

/// The commands that take a run's flags.
const WITH_RUN_FLAGS: [&str; 2] = ["run", "ab"];

/// One flag as `--help` shows it: the parameters it sets, with the first one's help.
struct Declared {
    flag: &'static str,
    value_name: &'static str,
    help: String,
    /// The workload that declared it first (named when the flag is threadfork's own).
    workload: &'static str,
    /// The parameters it sets, as "workload parameter".
    sets: Vec<String>,
}

/// Every flag the registry's workloads declare, once each, in the order declared.
fn declared(registry: &Registry) -> Vec<Declared> {
    let mut out: Vec<Declared> = Vec::new();
    for w in registry.workloads() {
        let info = w.info();
        for p in info.params {
            let Some(flag) = p.flag else { continue };
            let param = format!("{} {}", info.name, p.name);
            match out.iter().position(|d| d.flag == flag) {
                Some(i) => out[i].sets.push(param),
                None => {
                    let (value_name, list) = match p.read {
                        Some(r) => (r.name, ""),
                        None => ("N", "; a list (a,b,…) sweeps it"),
                    };
                    let sizes = matches!(info.size, Size::Split(s) | Size::PerWorker(s) if s == *p);
                    let default = match p.read {
                        Some(_) => String::new(),
                        None if sizes => " [default: sized by --sample-time]".to_string(),
                        None => format!(" [default: {}]", p.default),
                    };
                    let mut help = p.help.to_string();
                    if let Some(first) = help.get(..1) {
                        help.replace_range(..1, &first.to_uppercase());
                    }
                    out.push(Declared {
                        flag,
                        value_name,
                        help: format!("{help}{default}{list}"),
                        workload: info.name,
                        sets: vec![param],
                    });
                }
            }
        }
    }
    for d in &mut out {
        d.help = format!("{} (sets {})", d.help, d.sets.join(", "));
    }
    out
}

/// The argument id of a workload's flag: apart from every id of threadfork's own arguments.
fn id(flag: &str) -> String {
    format!("workload-flag:{flag}")
}

/// threadfork's command line with the registry's flags on `run` and `ab`. A flag that is
/// threadfork's own is the workload's mistake: one line naming it.
fn command(flags: &[Declared]) -> Result<clap::Command, String> {
    let mut cmd = Cli::command();
    for sub in WITH_RUN_FLAGS {
        let Some(s) = cmd.find_subcommand(sub) else {
            continue;
        };
        let own: Vec<&str> = s.get_arguments().filter_map(Arg::get_long).collect();
        if let Some(d) = flags
            .iter()
            .find(|d| own.contains(&d.flag) || matches!(d.flag, "help" | "version"))
        {
            return Err(format!(
                "workload '{}': --{} is a flag of threadfork's own; give its parameter another (Param::flag)",
                d.workload, d.flag
            ));
        }
        cmd = cmd.mut_subcommand(sub, |s| {
            flags.iter().fold(s, |s, d| {
                s.arg(
                    Arg::new(id(d.flag))
                        .long(d.flag)
                        .value_name(d.value_name)
                        .help(d.help.clone())
                        .allow_hyphen_values(true)
                        .action(ArgAction::Set),
                )
            })
        });
    }
    Ok(cmd)
}

/// Why the command line could not be read: clap's error, or a workload's flag that clashes.
pub enum ParseError {
    Clap(clap::Error),
    Flag(String),
}

/// Reads `args` as threadfork's command line over `registry`'s workloads: the workloads'
/// flags given land in the run's `flags`, as (flag, text).
pub fn parse<I, T>(args: I, registry: &Registry) -> Result<Cli, ParseError>
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    let flags = declared(registry);
    let cmd = command(&flags).map_err(ParseError::Flag)?;
    let m = cmd.try_get_matches_from(args).map_err(ParseError::Clap)?;
    let mut cli = Cli::from_arg_matches(&m).map_err(ParseError::Clap)?;
    let given = |m: Option<&ArgMatches>| -> Vec<(String, String)> {
        let Some(m) = m else { return Vec::new() };
        flags
            .iter()
            .filter_map(|d| {
                let v = m.get_one::<String>(&id(d.flag))?;
                Some((d.flag.to_string(), v.clone()))
            })
            .collect()
    };
    match &mut cli.command {
        Command::Run(a) => a.flags = given(m.subcommand_matches("run")),
        Command::Ab(a) => a.run.flags = given(m.subcommand_matches("ab")),
        _ => {}
    }
    Ok(cli)
}

/// `parse`, with its error as one line: what threadfork's own tests read a command line with.
pub fn parse_args<I, T>(args: I, registry: &Registry) -> Result<Cli, String>
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    parse(args, registry).map_err(|e| match e {
        ParseError::Flag(line) => line,
        ParseError::Clap(e) => clap_line(&e.render().to_string()),
    })
}

/// clap's message in one line: its first paragraph (a missing argument's name is on the lines
/// under the first), without the "error: " it starts with.
pub(super) fn clap_line(text: &str) -> String {
    let para: Vec<&str> = text
        .lines()
        .take_while(|l| !l.trim().is_empty())
        .map(str::trim)
        .collect();
    let line = para.join(" ");
    let line = line.strip_prefix("error: ").unwrap_or(&line);
    if line.is_empty() {
        "invalid arguments".into()
    } else {
        line.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::clap_line;

    #[test]
    fn clap_messages_become_one_line_with_the_missing_names() {
        let text = "error: the following required arguments were not provided:\n  --revs <A..B>\n\nUsage: threadfork history --revs <A..B> --step <K> [PATH]...\n\nFor more information, try '--help'.\n";
        assert_eq!(
            clap_line(text),
            "the following required arguments were not provided: --revs <A..B>"
        );
        assert_eq!(
            clap_line("error: unexpected argument '--x' found\n\n  tip: …"),
            "unexpected argument '--x' found"
        );
        assert_eq!(clap_line(""), "invalid arguments");
    }
}
