// Home of the comparator; filled by the compare issue.
