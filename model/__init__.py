"""Build step that turns registry-shipped expression models into ONNX files (see model/README.md)."""
