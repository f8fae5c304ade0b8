"""Dataset layouts as downloaded (ImageFolder, PlantNet-300K v1.1 and v2), species facts and a scan cache."""
