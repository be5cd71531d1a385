//! Fenced code blocks of a Markdown document, and the `$ ` commands of a
//! `console` block with the output shown after each.

/// One fenced block.
#[derive(Debug)]
pub struct Block {
    /// The first word of the info string (`console`, `csv`, ...).
    pub lang: String,
    /// `file=PATH` of the info string: the block shows that file.
    pub file: Option<String>,
    /// 1-based line of the opening fence.
    pub line: usize,
    pub body: Vec<String>,
}

/// One command of a `console` block.
#[derive(Debug)]
pub struct Example {
    pub line: usize,
    pub command: String,
    pub output: Vec<String>,
    pub status: i32,
}

/// Every fenced block (```` ``` ```` at the start of a line), in order.
pub fn parse(text: &str) -> Vec<Block> {
    let mut blocks = Vec::new();
    let mut open: Option<Block> = None;
    for (n, line) in text.lines().enumerate() {
        match open.take() {
            Some(block) if line.trim_end() == "```" => blocks.push(block),
            Some(mut block) => {
                block.body.push(line.to_owned());
                open = Some(block);
            }
            None => {
                if let Some(info) = line.strip_prefix("```") {
                    let mut words = info.split_whitespace();
                    let lang = words.next().unwrap_or("").to_owned();
                    let file = words
                        .find_map(|w| w.strip_prefix("file="))
                        .map(str::to_owned);
                    open = Some(Block {
                        lang,
                        file,
                        line: n + 1,
                        body: Vec::new(),
                    });
                }
            }
        }
    }
    assert!(open.is_none(), "a fenced block is never closed");
    blocks
}

/// The commands of a `console` block: `$ ` lines (a line ending in `\`
/// goes on), each followed by its output up to the next `$ `.
pub fn commands(block: &Block) -> Vec<Example> {
    let mut examples: Vec<Example> = Vec::new();
    let mut continued = false;
    for (k, line) in block.body.iter().enumerate() {
        if continued {
            let last = examples.last_mut().expect("a command");
            last.command.push('\n');
            last.command.push_str(line);
            continued = line.ends_with('\\');
        } else if let Some(command) = line.strip_prefix("$ ") {
            examples.push(Example {
                line: block.line + 1 + k,
                command: command.to_owned(),
                output: Vec::new(),
                status: 0,
            });
            continued = line.ends_with('\\');
        } else {
            let last = examples.last_mut().unwrap_or_else(|| {
                panic!(
                    "line {}: output before any `$ ` command",
                    block.line + 1 + k
                )
            });
            match line
                .strip_prefix("[exit status ")
                .and_then(|s| s.strip_suffix(']'))
            {
                Some(code) => last.status = code.parse().expect("exit status"),
                None => last.output.push(line.clone()),
            }
        }
    }
    examples
}
