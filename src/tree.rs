//! Trees as notation prints them for `list` and `inspect` (notary-spec.md §4.11):
//! `├── ` and `└── ` before each child, `│   ` and four spaces below them.

/// A node with text and children.
#[derive(Debug, Clone, Default)]
pub struct Node {
    text: String,
    children: Vec<Node>,
}

impl Node {
    /// A node with `text`.
    pub fn new(text: impl Into<String>) -> Node {
        Node {
            text: text.into(),
            children: Vec::new(),
        }
    }

    /// Adds a child and returns it.
    pub fn add(&mut self, text: impl Into<String>) -> &mut Node {
        self.children.push(Node::new(text));
        let last = self.children.len() - 1;
        &mut self.children[last]
    }

    /// Adds a finished subtree.
    pub fn push(&mut self, node: Node) {
        self.children.push(node);
    }

    /// Adds a `key: value` child and returns it.
    pub fn pair(&mut self, key: &str, value: impl std::fmt::Display) -> &mut Node {
        self.add(format!("{key}: {value}"))
    }

    /// The lines of the tree.
    pub fn render(&self) -> Vec<String> {
        let mut out = vec![self.text.clone()];
        self.render_children("", &mut out);
        out
    }

    fn render_children(&self, prefix: &str, out: &mut Vec<String>) {
        for (i, child) in self.children.iter().enumerate() {
            let last = i + 1 == self.children.len();
            let (branch, below) = if last {
                ("└── ", "    ")
            } else {
                ("├── ", "│   ")
            };
            out.push(format!("{prefix}{branch}{}", child.text));
            child.render_children(&format!("{prefix}{below}"), out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Node;

    #[test]
    fn renders_like_notation() {
        let mut root = Node::new("r@sha256:1");
        let sigs = root.add("application/vnd.cncf.notary.signature");
        sigs.add("sha256:a").pair("k", "v");
        sigs.add("sha256:b");
        assert_eq!(
            root.render(),
            [
                "r@sha256:1",
                "└── application/vnd.cncf.notary.signature",
                "    ├── sha256:a",
                "    │   └── k: v",
                "    └── sha256:b",
            ]
        );
    }
}
