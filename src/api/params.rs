//! A workload's parameters: each declared once as a [`Param`], the handle its value is read
//! by; the values of one case ([`Params`]), as they cross into every worker as plain data;
//! and how a sample's size is shared between the workers ([`Size`]).

/// Most parameters a workload may declare: they travel to every worker in the region's header.
pub const MAX_PARAMS: usize = 8;

/// A named whole-number parameter of a workload, settable with `--param NAME=VALUE`, and
/// recorded with every measurement. Declared once as a constant, it is the handle the
/// workload reads its value by: `ctx.get(WORK)`.
///
/// ```
/// use threadfork::Param;
/// const WORK: Param = Param::new("work", 100)
///     .range(1, 1 << 20)
///     .help("squares per task")
///     .flag("work");
/// assert_eq!(WORK.name, "work");
/// assert_eq!(WORK.flag, Some("work"));
/// ```
#[derive(Clone, Copy, Debug)]
pub struct Param {
    pub name: &'static str,
    pub default: u64,
    pub min: u64,
    pub max: u64,
    pub help: &'static str,
    /// A flag of its own on `run` and `ab` (`--work N` for `--param work=N`), see
    /// [`Param::flag`].
    pub flag: Option<&'static str>,
    /// How the flag's text becomes the value, when it is not a whole number (see
    /// [`Param::read_as`]): the value's name in `--help`, and the reader.
    pub read: Option<Reader>,
    /// The work of one unit of the workload's size (see [`Param::unit_work`]).
    pub unit_work: bool,
    /// The name's hash: what a value is found by, with no text compared.
    id: u64,
}

/// How a flag's text becomes a parameter's value: `name` stands for the value in `--help`
/// (`TIME`), `read` turns the text into the value or says what is wrong with it.
#[derive(Clone, Copy, Debug)]
pub struct Reader {
    pub name: &'static str,
    pub read: fn(&str) -> Result<u64, String>,
}

/// Two handles are equal when they declare the same parameter (the reader is not compared:
/// a function's address says nothing of what it does).
impl PartialEq for Param {
    fn eq(&self, other: &Param) -> bool {
        (
            self.id,
            self.default,
            self.min,
            self.max,
            self.flag,
            self.unit_work,
        ) == (
            other.id,
            other.default,
            other.min,
            other.max,
            other.flag,
            other.unit_work,
        ) && self.name == other.name
    }
}

impl Eq for Param {}

impl std::fmt::Display for Param {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name)
    }
}

/// A 64-bit FNV-1a hash, at compile time.
const fn fnv(name: &str) -> u64 {
    let bytes = name.as_bytes();
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut i = 0;
    while i < bytes.len() {
        h = (h ^ bytes[i] as u64).wrapping_mul(0x0100_0000_01b3);
        i += 1;
    }
    h
}

impl Param {
    /// A parameter with a default, accepting 0 ..= u64::MAX.
    pub const fn new(name: &'static str, default: u64) -> Param {
        Param {
            name,
            default,
            min: 0,
            max: u64::MAX,
            help: "",
            flag: None,
            read: None,
            unit_work: false,
            id: fnv(name),
        }
    }

    /// The values accepted on the command line.
    pub const fn range(mut self, min: u64, max: u64) -> Param {
        self.min = min;
        self.max = max;
        self
    }

    /// One line of help, shown by `threadfork list` and, for a flag, `run --help`.
    pub const fn help(mut self, help: &'static str) -> Param {
        self.help = help;
        self
    }

    /// A flag of its own on `run` and `ab`: `--FLAG N` sets the parameter as
    /// `--param NAME=N` does, and a list (`--FLAG a,b`) sweeps it. Lower-case letters, digits
    /// and dashes, and none of threadfork's own flags (checked when the binary starts).
    /// Parameters of several workloads may share a flag (one value sets them all); so may
    /// two parameters of one workload that one text sets together (see [`Param::read_as`]).
    pub const fn flag(mut self, flag: &'static str) -> Param {
        self.flag = Some(flag);
        self
    }

    /// Reads the flag's text with `read` instead of as a whole number (`--hold 30us`), `name`
    /// standing for the value in `--help`. A flag read this way takes one value, never a
    /// list.
    pub const fn read_as(
        mut self,
        name: &'static str,
        read: fn(&str) -> Result<u64, String>,
    ) -> Param {
        self.read = Some(Reader { name, read });
        self
    }

    /// Marks the parameter as the work of one unit of the workload's size (the square
    /// workload's squares per task). Sweeping it is the granularity sweep: every model's pool
    /// tasks are one unit each, and the report finds each model's break-even task size.
    pub const fn unit_work(mut self) -> Param {
        self.unit_work = true;
        self
    }
}

/// How one sample's work is sized and shared between its workers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Size {
    /// The parameter's value is the sample's total, split as evenly as possible between the
    /// workers (strong scaling): more workers, less each.
    Split(Param),
    /// Every worker does the parameter's value (weak scaling).
    PerWorker(Param),
    /// No size: the workload measures start and stop only (see [`crate::Workload::start_only`]).
    None,
}

/// Worker `k` of `n`'s share of `total` when it is split as evenly as possible.
pub fn split(total: u64, k: usize, n: usize) -> u64 {
    let n = n.max(1) as u64;
    total / n + u64::from((k as u64) < total % n)
}

/// A workload's parameters as set for one case: each declared [`Param`] with its value, in
/// the declared order.
#[derive(Clone, Copy, Debug)]
pub struct Params<'a> {
    names: &'static [Param],
    values: &'a [u64],
}

impl<'a> Params<'a> {
    pub fn new(names: &'static [Param], values: &'a [u64]) -> Params<'a> {
        Params { names, values }
    }

    /// The value of parameter `p`, found by its handle (its name's hash compared with the at
    /// most eight declared, no text read). Panics on a parameter the workload did not
    /// declare: a bug in the workload, reported as its case's failure at the caller's line.
    #[track_caller]
    #[inline]
    pub fn get(&self, p: Param) -> u64 {
        let mut i = 0;
        while i < self.names.len() {
            if self.names[i].id == p.id {
                return match self.values.get(i) {
                    Some(v) => *v,
                    None => self.names[i].default,
                };
            }
            i += 1;
        }
        self.undeclared(p.name)
    }

    /// The value of the parameter named `name`.
    #[deprecated(
        since = "0.2.0",
        note = "read a parameter by its handle: `ctx.get(NAME)`, with `const NAME: Param = Param::new(..)` declared once and listed in `params()`"
    )]
    #[track_caller]
    pub fn by_name(&self, name: &str) -> u64 {
        match self.names.iter().find(|p| p.name == name) {
            Some(p) => self.get(*p),
            None => self.undeclared(name),
        }
    }

    /// The panic of [`Params::get`], kept out of its way: `get` runs in every task of a pool,
    /// and with this body inline it was left uninlined — the counter's `rayon-map` at 1
    /// worker ran at 0.72–0.80× the earlier build's speed in 4 of 4 pairs, 0.94–0.99× since.
    #[cold]
    #[inline(never)]
    #[track_caller]
    fn undeclared(&self, name: &str) -> ! {
        let declared: Vec<&str> = self.names.iter().map(|p| p.name).collect();
        panic!(
            "no parameter named '{name}' was declared by this workload (it declares: {})",
            if declared.is_empty() {
                "none".to_string()
            } else {
                declared.join(", ")
            }
        )
    }

    pub fn values(&self) -> &'a [u64] {
        self.values
    }
}

/// A workload's parameter values while [`crate::Workload::finish_params`] adjusts them: each read,
/// set and asked whether the command line gave it, by its handle.
pub struct ParamValues<'a> {
    names: &'static [Param],
    values: &'a mut [u64],
    given: &'a [bool],
}

impl<'a> ParamValues<'a> {
    pub(crate) fn new(
        names: &'static [Param],
        values: &'a mut [u64],
        given: &'a [bool],
    ) -> ParamValues<'a> {
        ParamValues {
            names,
            values,
            given,
        }
    }

    fn index(&self, p: Param) -> usize {
        match self.names.iter().position(|n| n.id == p.id) {
            Some(i) => i,
            None => Params::new(self.names, &[]).undeclared(p.name),
        }
    }

    /// The value of `p` as set so far (its default, or what the command line gave).
    #[track_caller]
    pub fn get(&self, p: Param) -> u64 {
        self.values[self.index(p)]
    }

    /// Sets `p` (within the workload's own reasons: a default that depends on another one).
    #[track_caller]
    pub fn set(&mut self, p: Param, value: u64) {
        let i = self.index(p);
        self.values[i] = value;
    }

    /// Whether the command line gave `p` (else it holds its default).
    #[track_caller]
    pub fn given(&self, p: Param) -> bool {
        self.given.get(self.index(p)).copied().unwrap_or(false)
    }
}

/// Worker `k` of `n`'s units under `size`.
pub fn units_of(size: Size, params: Params<'_>, k: usize, n: usize) -> u64 {
    match size {
        Size::Split(p) => split(params.get(p), k, n),
        Size::PerWorker(p) => params.get(p),
        Size::None => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn params_are_read_by_their_handles() {
        const A: Param = Param::new("a", 1);
        const B: Param = Param::new("b", 2);
        const P: [Param; 2] = [A, B];
        let p = Params::new(&P, &[5, 6]);
        assert_eq!((p.get(A), p.get(B)), (5, 6));
        let r = std::panic::catch_unwind(|| p.get(Param::new("c", 0)));
        assert!(r.is_err());
        let mut values = [1, 2];
        let mut v = ParamValues::new(&P, &mut values, &[false, true]);
        assert!(!v.given(A) && v.given(B));
        v.set(A, v.get(B) * 10);
        assert_eq!(values, [20, 2]);
    }
}
