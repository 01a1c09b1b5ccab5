"""Teacher corpus: text lists, synthesis, manifests, teacher F0."""
