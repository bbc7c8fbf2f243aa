"""The Kubernetes API vocabulary: resources, defaulting, validation, selectors, quantities."""
