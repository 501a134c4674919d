// Home of the pipeline stages; filled by the dispatcher and trace issues.
