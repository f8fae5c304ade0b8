"""plantml: the Django-free PyTorch + timm library behind plantsite (data, training, evaluation, predictor).

Imports run one way (checked by `make lint`): data and transforms at the bottom, shared by
training and evaluation; the predictor and TTA beside evaluation. Nothing here imports Django
or a plantsite app.
"""
