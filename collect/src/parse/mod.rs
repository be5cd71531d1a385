//! Parsers of tool output.
