"""Deployment. :mod:`.onnx_export`: a recognizer's class scores as a
standard ONNX graph, checked in onnxruntime."""
