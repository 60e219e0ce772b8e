"""What a network may be: the one op table (``search_space.OPS``), the network tree and the plan
of every op instance, the trilevel supernet with sparsestmax and slimmable widths, genotypes and
their derivation. Pure PyTorch modules and data; imports no other part of codesign."""
