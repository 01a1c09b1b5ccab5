"""Training: model definitions (codec_model, ar_model, voice_model), trainers on one loop (loop.py), exporters."""
