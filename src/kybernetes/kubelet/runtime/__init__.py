"""Container runtimes behind one CRI-shaped interface (`interface.RuntimeService`,
`interface.ImageService`): `oci`, `process` and `simulated`."""
