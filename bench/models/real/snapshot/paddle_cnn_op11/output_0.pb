

Bsave_infer_model/scale_0.tmp_0J(vТи=─c->qот=9А=║[╛=;3и=GД╘=▌[┘=╣▓╜=Р═╟=