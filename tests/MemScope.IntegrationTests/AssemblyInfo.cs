// Integration tests borrow global kernel state (swap, cgroups, page cache, tracefs): never run two at once.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
